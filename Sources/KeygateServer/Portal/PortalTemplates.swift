/// The portal's Mustache templates, compiled into the binary so a copied `keygate` executable needs no resource
/// folder next to it. `{{x}}` escapes HTML; the pages never use the unescaped form.
enum PortalTemplates {
    static let all: [String: String] = [
        "head": head, "foot": foot, "signin": signin, "keys": keys, "message": message, "applied": applied,
    ]

    static let head = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Keygate</title>
        <link rel="stylesheet" href="/portal/assets/portal.css">
        <script src="/portal/assets/portal.js" defer></script>
        </head>
        <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="bar">
          <span class="brand">Keygate</span>
          {{#signedIn}}
          <form class="switch" method="get" action="/portal/switch">
            <label for="org-switch">Organization</label>
            <select id="org-switch" name="org" data-autosubmit>
              {{#orgs}}<option value="{{id}}"{{#current}} selected{{/current}}>{{name}}</option>{{/orgs}}
            </select>
            <noscript><button type="submit">Switch</button></noscript>
          </form>
          <span class="who">{{userName}}</span>
          <a class="add-org" href="/portal/signin">Add organization</a>
          <form method="post" action="/portal/signout">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <button type="submit" class="link" id="sign-out">Sign out</button>
          </form>
          {{/signedIn}}
        </header>
        <main id="main">
        """#

    static let foot = #"""
        </main>
        </body>
        </html>
        """#

    static let signin = #"""
        {{> head}}
        <section class="card narrow">
          <h1>Sign in</h1>
          {{#signedIn}}<p>You are signed in to {{orgCount}} organization(s). Sign in with another account to add its organization.</p>{{/signedIn}}
          {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
          {{#error}}<p class="error" role="alert" id="signin-error">{{error}}</p>{{/error}}
          <form method="post" action="/portal/signin" class="stack">
            <label for="loginName">Login name</label>
            <input id="loginName" name="loginName" autocomplete="username" required maxlength="256" value="{{loginName}}"{{#error}} aria-describedby="signin-error"{{/error}}>
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
            <button type="submit" class="primary">Sign in</button>
          </form>
        </section>
        {{> foot}}
        """#

    static let keys = #"""
        {{> head}}
        <h1>API Key Management</h1>
        <p class="sub">{{orgName}}</p>
        {{#done}}<p class="notice" role="status" id="done">{{done}}</p>{{/done}}
        {{#pageError}}<p class="error" role="alert" id="page-error">{{pageError}}</p>{{/pageError}}

        <section class="card" aria-labelledby="base-url-label">
          <h2 id="base-url-label">API base URL</h2>
          <div class="copyline">
            <code id="base-url">{{baseURL}}</code>
            <button type="button" data-copy="base-url" aria-label="Copy the API base URL">Copy</button>
          </div>
        </section>

        <section class="card" aria-labelledby="key-heading">
          <div class="section-head">
            <h2 id="key-heading">API key</h2>
            {{#hasKey}}<button type="button" data-dialog="columns" id="open-columns">Columns</button>{{/hasKey}}
          </div>
          {{#keyDisabled}}<p class="warning" role="note" id="key-disabled">The provider has disabled this key: API access is off for {{orgName}} until they enable it. The key cannot be changed meanwhile.</p>{{/keyDisabled}}
          {{#readOnly}}<p class="muted" id="read-only">Your role can view the key but not change it.</p>{{/readOnly}}
          {{#hasKey}}
          <div class="table-wrap">
          <table id="key-table">
            <thead><tr>{{#columns}}<th scope="col" data-column="{{name}}">{{title}}</th>{{/columns}}</tr></thead>
            <tbody><tr>
              {{#cells}}
              <td data-column="{{name}}" data-label="{{title}}">
                {{#isKey}}<span class="key"><code id="key-value" data-secret="{{value}}" aria-label="API key, hidden">••••••••••••</code>
                  <button type="button" id="reveal" data-reveal="key-value" aria-pressed="false" aria-label="Show the key"><svg aria-hidden="true" focusable="false" width="18" height="18" viewBox="0 0 24 24"><path d="M1 12s4-7 11-7 11 7 11 7-4 7-11 7S1 12 1 12z" fill="none" stroke="currentColor" stroke-width="2"/><circle cx="12" cy="12" r="3" fill="none" stroke="currentColor" stroke-width="2"/></svg></button>
                  <button type="button" data-copy="key-value" aria-label="Copy the key">Copy</button></span>{{/isKey}}
                {{#isTime}}{{#hasTime}}<time datetime="{{iso}}" title="{{iso}}">{{iso}}</time>{{/hasTime}}{{^hasTime}}Never{{/hasTime}}{{/isTime}}
                {{#isText}}{{value}}{{/isText}}
              </td>
              {{/cells}}
            </tr></tbody>
          </table>
          </div>
          {{#canWrite}}
          <div class="actions">
            <button type="button" data-dialog="edit" id="edit-key"{{#keyDisabled}} disabled{{/keyDisabled}}>Edit</button>
            <button type="button" data-dialog="regenerate" id="regenerate-key"{{#keyDisabled}} disabled{{/keyDisabled}}>Regenerate</button>
            <button type="button" data-dialog="delete" id="delete-key" class="danger"{{#keyDisabled}} disabled{{/keyDisabled}}>Delete</button>
          </div>
          {{/canWrite}}
          {{/hasKey}}
          {{^hasKey}}
          <div class="empty" id="no-key">
            <p><strong>No API key.</strong> API access is off for {{orgName}} until a key is added: no session can be created and no API request is possible.</p>
            {{#canWrite}}<button type="button" class="primary" data-dialog="add" id="add-key">Add API Key</button>{{/canWrite}}
          </div>
          {{/hasKey}}
        </section>

        {{#multiOrg}}{{#canWriteAny}}
        <section class="card" aria-labelledby="apply-heading">
          <h2 id="apply-heading">One key for all your organizations</h2>
          <p>Set the same key string in every organization you are signed in to ({{orgCount}}), in one action.</p>
          <button type="button" data-dialog="apply" id="open-apply">Apply one key to all…</button>
        </section>
        {{/canWriteAny}}{{/multiOrg}}

        {{#hasKey}}
        <dialog id="dialog-columns" aria-labelledby="columns-title">
          <form method="post" action="/portal/orgs/{{orgID}}/columns" data-columns-form>
            <h2 id="columns-title">Columns</h2>
            <p>Choose the columns to show and their order. Your choice is saved to your account.</p>
            <ul class="chooser" id="column-list">
              {{#allColumns}}
              <li data-name="{{name}}">
                <input type="checkbox" id="col-{{name}}" value="{{name}}"{{#shown}} checked{{/shown}}>
                <label for="col-{{name}}">{{title}}</label>
                <button type="button" data-move="up" aria-label="Move {{title}} up">↑</button>
                <button type="button" data-move="down" aria-label="Move {{title}} down">↓</button>
              </li>
              {{/allColumns}}
            </ul>
            <input type="hidden" name="columns" value="{{columnChoice}}">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <div class="dialog-actions"><button type="button" data-close>Cancel</button><button type="submit" class="primary" id="save-columns">Save</button></div>
          </form>
        </dialog>
        {{/hasKey}}

        {{#canWrite}}
        <dialog id="dialog-edit" aria-labelledby="edit-title"{{#openEdit}} data-open{{/openEdit}}>
          <form method="post" action="/portal/orgs/{{orgID}}/keys/edit" novalidate data-key-form>
            <h2 id="edit-title">Edit API key</h2>
            <p class="consequence">The old key stops working immediately; {{sessionsEnd}}</p>
            <label for="new-key">New API Key</label>
            <input id="new-key" name="keyValue" autocomplete="off" spellcheck="false" maxlength="64" value="{{editValue}}"
              pattern="[A-Za-z0-9]{12}" data-current-key="{{keyValue}}" aria-describedby="new-key-help new-key-error" required>
            <p id="new-key-help" class="muted">Exactly 12 characters: A–Z, a–z, 0–9. Not the current key.</p>
            <p id="new-key-error" class="error field-error" role="alert">{{editError}}</p>
            <input type="hidden" name="id" value="{{keyID}}">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <div class="dialog-actions"><button type="button" data-close>Cancel</button><button type="submit" class="primary" id="confirm-edit">Save key</button></div>
          </form>
        </dialog>
        <dialog id="dialog-regenerate" aria-labelledby="regenerate-title"{{#openRegenerate}} data-open{{/openRegenerate}}>
          <form method="post" action="/portal/orgs/{{orgID}}/keys/regenerate">
            <h2 id="regenerate-title">Regenerate API key</h2>
            <p class="consequence">A new random key replaces this one. The old key stops working immediately; {{sessionsEnd}}</p>
            {{#regenerateError}}<p class="error" role="alert">{{regenerateError}}</p>{{/regenerateError}}
            <input type="hidden" name="id" value="{{keyID}}">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <div class="dialog-actions"><button type="button" data-close>Cancel</button><button type="submit" class="primary" id="confirm-regenerate">Regenerate</button></div>
          </form>
        </dialog>
        <dialog id="dialog-delete" aria-labelledby="delete-title"{{#openDelete}} data-open{{/openDelete}}>
          <form method="post" action="/portal/orgs/{{orgID}}/keys/delete">
            <h2 id="delete-title">Delete API key</h2>
            <p class="consequence">After this no API request is possible for {{orgName}} until a key is added. {{sessionsEndCap}}</p>
            {{#deleteError}}<p class="error" role="alert">{{deleteError}}</p>{{/deleteError}}
            <input type="hidden" name="id" value="{{keyID}}">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <div class="dialog-actions"><button type="button" data-close>Cancel</button><button type="submit" class="danger" id="confirm-delete">Delete key</button></div>
          </form>
        </dialog>
        <dialog id="dialog-add" aria-labelledby="add-title"{{#openAdd}} data-open{{/openAdd}}>
          <form method="post" action="/portal/orgs/{{orgID}}/keys/add" novalidate data-key-form>
            <h2 id="add-title">Add API key</h2>
            <p class="consequence">API access starts again with this key.</p>
            <label for="add-value">Key (leave empty for a random one)</label>
            <input id="add-value" name="keyValue" autocomplete="off" spellcheck="false" maxlength="64" value="{{addValue}}"
              pattern="[A-Za-z0-9]{12}" data-optional aria-describedby="add-help add-error">
            <p id="add-help" class="muted">Exactly 12 characters: A–Z, a–z, 0–9.</p>
            <p id="add-error" class="error field-error" role="alert">{{addError}}</p>
            <input type="hidden" name="csrf" value="{{csrf}}">
            <div class="dialog-actions"><button type="button" data-close>Cancel</button><button type="submit" class="primary" id="confirm-add">Add key</button></div>
          </form>
        </dialog>
        {{/canWrite}}

        {{#multiOrg}}{{#canWriteAny}}
        <dialog id="dialog-apply" aria-labelledby="apply-title"{{#openApply}} data-open{{/openApply}}>
          <form method="post" action="/portal/apply-all" novalidate data-key-form>
            <h2 id="apply-title">Apply one key to all organizations</h2>
            <p class="consequence">In each organization where your role allows it, the old key stops working immediately and its live API sessions end.</p>
            <ul>{{#orgs}}<li>{{name}}</li>{{/orgs}}</ul>
            <label for="apply-value">Key for all</label>
            <input id="apply-value" name="keyValue" autocomplete="off" spellcheck="false" maxlength="64" value="{{applyValue}}"
              pattern="[A-Za-z0-9]{12}" aria-describedby="apply-help apply-error" required>
            <p id="apply-help" class="muted">Exactly 12 characters: A–Z, a–z, 0–9.</p>
            <p id="apply-error" class="error field-error" role="alert">{{applyError}}</p>
            <input type="hidden" name="csrf" value="{{csrf}}">
            <input type="hidden" name="from" value="{{orgID}}">
            <div class="dialog-actions"><button type="button" data-close>Cancel</button><button type="submit" class="primary" id="confirm-apply">Apply to all</button></div>
          </form>
        </dialog>
        {{/canWriteAny}}{{/multiOrg}}
        {{> foot}}
        """#

    static let applied = #"""
        {{> head}}
        <h1>One key for all organizations</h1>
        <section class="card">
          <table id="apply-results">
            <thead><tr><th scope="col">Organization</th><th scope="col">Result</th></tr></thead>
            <tbody>{{#results}}<tr data-ok="{{ok}}"><td data-label="Organization">{{name}}</td><td data-label="Result">{{outcome}}</td></tr>{{/results}}</tbody>
          </table>
          <p><a href="/portal/orgs/{{orgID}}/keys">Back to API Key Management</a></p>
        </section>
        {{> foot}}
        """#

    static let message = #"""
        {{> head}}
        <section class="card narrow">
          <h1>{{heading}}</h1>
          <p id="message">{{text}}</p>
          {{#link}}<p><a href="{{href}}">{{label}}</a></p>{{/link}}
        </section>
        {{> foot}}
        """#
}
