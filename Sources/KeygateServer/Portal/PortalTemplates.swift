/// The portal's Mustache templates, compiled into the binary so a copied `keygate` executable needs no resource
/// folder next to it. `{{x}}` escapes HTML; the pages never use the unescaped form.
enum PortalTemplates {
    static let all: [String: String] = [
        "document": document, "head": head, "foot": foot, "signin": signin, "keys": keys, "message": message, "applied": applied,
        "audit": audit, "admins": admins, "roles": roles,
        "phead": ProviderTemplates.head, "provider-signin": ProviderTemplates.signin, "provider-orgs": ProviderTemplates.orgs,
        "webhooks": PortalTemplates.webhooks, "provider-org": ProviderTemplates.org, "provider-created": ProviderTemplates.created,
        "provider-message": ProviderTemplates.message,
    ]

    /// The document's start, shared by the portal's and the console's headers.
    static let document = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Keygate{{#console}} provider console{{/console}}</title>
        <link rel="stylesheet" href="/portal/assets/portal.css">
        <script src="/portal/assets/portal.js" defer></script>
        </head>
        <body>
        <a class="skip" href="#main">Skip to content</a>
        """#

    static let head = #"""
        {{> document}}
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
        {{#nav}}
        <nav class="tabs" aria-label="Organization pages">
          <a href="/portal/orgs/{{orgID}}/keys"{{#navKeys}} aria-current="page"{{/navKeys}}>API Keys</a>
          <a href="/portal/orgs/{{orgID}}/admins"{{#navAdmins}} aria-current="page"{{/navAdmins}}>Admins</a>
          <a href="/portal/orgs/{{orgID}}/roles"{{#navRoles}} aria-current="page"{{/navRoles}}>Roles</a>
          <a href="/portal/orgs/{{orgID}}/audit"{{#navAudit}} aria-current="page"{{/navAudit}}>Audit</a>
          <a href="/portal/orgs/{{orgID}}/webhooks"{{#navWebhooks}} aria-current="page"{{/navWebhooks}}>Webhooks</a>
        </nav>
        {{/nav}}
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

        <section class="card" aria-labelledby="usage-heading" id="usage">
          <h2 id="usage-heading">API usage</h2>
          {{#usage}}
          <p><strong id="usage-today">{{today}}</strong> requests today, <strong id="usage-week">{{week}}</strong> in the last 7 days <span class="muted">(UTC; servers write their counts every {{usageFlush}})</span>.</p>
          {{#hasAdmins}}
          <div class="table-wrap">
          <table id="usage-table">
            <thead><tr><th scope="col">Admin</th><th scope="col">Today</th><th scope="col">Last 7 days</th></tr></thead>
            <tbody>
              {{#admins}}<tr><td data-label="Admin">{{name}}</td><td data-label="Today">{{today}}</td><td data-label="Last 7 days">{{week}}</td></tr>{{/admins}}
            </tbody>
          </table>
          </div>
          {{/hasAdmins}}
          {{/usage}}
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

    static let audit = #"""
        {{> head}}
        <h1>Audit</h1>
        <p class="sub">{{orgName}}: key, session, admin and role events, newest first.</p>
        <section class="card">
          <form method="get" action="/portal/orgs/{{orgID}}/audit" class="filters">
            <label for="audit-type">Type</label>
            <select id="audit-type" name="type">
              <option value="">All</option>
              {{#types}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/types}}
            </select>
            <button type="submit">Filter</button>
            <a class="button" id="export-csv" href="/portal/orgs/{{orgID}}/audit.csv{{#type}}?type={{type}}{{/type}}" download>Export CSV</a>
          </form>
          <div class="table-wrap">
          <table id="audit-table">
            <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Event</th><th scope="col">Detail</th></tr></thead>
            <tbody>
            {{#events}}<tr><td data-label="When"><time datetime="{{iso}}" title="{{iso}}">{{iso}}</time></td><td data-label="Who">{{actor}}</td><td data-label="Event"><code>{{action}}</code></td><td data-label="Detail">{{detail}}</td></tr>{{/events}}
            </tbody>
          </table>
          </div>
          {{^events}}<p class="muted" id="no-events">No events of this type.</p>{{/events}}
          <p class="muted">The 200 newest events; the CSV export holds up to 10,000.</p>
        </section>
        {{> foot}}
        """#

    static let admins = #"""
        {{> head}}
        <h1>Admins</h1>
        <p class="sub">{{orgName}}</p>
        {{#done}}<p class="notice" role="status" id="done">{{done}}</p>{{/done}}
        {{#pageError}}<p class="error" role="alert" id="page-error">{{pageError}}</p>{{/pageError}}
        <section class="card">
          <div class="table-wrap">
          <table id="admin-table">
            <thead><tr><th scope="col">Login name</th><th scope="col">Name</th><th scope="col">E-mail</th><th scope="col">Role</th><th scope="col">Status</th>{{#canWrite}}<th scope="col">Actions</th>{{/canWrite}}</tr></thead>
            <tbody>
            {{#admins}}<tr data-login="{{login}}">
              <td data-label="Login name">{{login}}</td><td data-label="Name">{{name}}</td><td data-label="E-mail">{{email}}</td>
              <td data-label="Role">{{#canWrite}}{{^isSelf}}<form method="post" action="/portal/orgs/{{orgID}}/admins/{{id}}" class="inline">
                <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="action" value="role">
                <label class="visually-hidden" for="role-{{id}}">Role of {{login}}</label>
                <select id="role-{{id}}" name="roleID">{{#roleOptions}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/roleOptions}}</select>
                <button type="submit">Set role</button></form>{{/isSelf}}{{/canWrite}}{{^canWrite}}{{role}}{{/canWrite}}{{#canWrite}}{{#isSelf}}{{role}}{{/isSelf}}{{/canWrite}}</td>
              <td data-label="Status">{{status}}</td>
              {{#canWrite}}<td data-label="Actions">{{^isSelf}}<form method="post" action="/portal/orgs/{{orgID}}/admins/{{id}}" class="inline">
                <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="action" value="{{toggle}}">
                <button type="submit" data-toggle="{{login}}">{{toggleLabel}}</button></form>{{/isSelf}}{{#isSelf}}(you){{/isSelf}}
                <details class="edit-admin"><summary>Edit</summary>
                  <form method="post" action="/portal/orgs/{{orgID}}/admins/{{id}}" class="stack">
                    <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="action" value="edit">
                    <label for="name-{{id}}">Name</label><input id="name-{{id}}" name="userName" value="{{name}}" required maxlength="256">
                    <label for="email-{{id}}">E-mail</label><input id="email-{{id}}" name="email" type="email" value="{{email}}" maxlength="256">
                    <button type="submit" id="save-admin-{{id}}">Save</button>
                  </form>
                </details></td>{{/canWrite}}
            </tr>{{/admins}}
            </tbody>
          </table>
          </div>
        </section>
        {{#canWrite}}
        <section class="card" aria-labelledby="new-admin-heading">
          <h2 id="new-admin-heading">Add an admin</h2>
          <form method="post" action="/portal/orgs/{{orgID}}/admins" class="grid">
            <label for="new-login">Login name</label><input id="new-login" name="loginName" required maxlength="256" value="{{formLogin}}">
            <label for="new-name">Name</label><input id="new-name" name="userName" maxlength="256" value="{{formName}}">
            <label for="new-email">E-mail</label><input id="new-email" name="email" type="email" maxlength="256" value="{{formEmail}}">
            <label for="new-role">Role</label><select id="new-role" name="roleID">{{#roles}}<option value="{{id}}">{{name}}</option>{{/roles}}</select>
            <label for="new-password">Password</label><input id="new-password" name="password" type="password" autocomplete="new-password" required maxlength="1024" aria-describedby="new-password-help">
            <p id="new-password-help" class="muted span">At least 8 characters with a letter, a digit and a symbol (the legacy API's rule).</p>
            {{#formError}}<p class="error span" role="alert" id="admin-error">{{formError}}</p>{{/formError}}
            <input type="hidden" name="csrf" value="{{csrf}}">
            <div class="span"><button type="submit" class="primary" id="create-admin">Add admin</button></div>
          </form>
        </section>
        {{/canWrite}}
        {{> foot}}
        """#

    static let webhooks = #"""
        {{> head}}
        <h1>Webhooks</h1>
        <p class="sub">{{orgName}}: signed notices of key and admin changes, POSTed to your endpoints. Each carries <code>Keygate-Signature: t=…,v1=…</code> (HMAC-SHA256 of <code>t.body</code> with the endpoint's secret) and <code>Keygate-Event-Id</code>; failed deliveries are retried with growing delays for 24 hours.</p>
        {{#done}}<p class="notice" role="status" id="done">{{done}}</p>{{/done}}
        {{#pageError}}<p class="error" role="alert" id="page-error">{{pageError}}</p>{{/pageError}}
        {{#secret}}<div class="notice" role="status" id="secret-notice"><p><strong>Signing secret for endpoint {{secretEndpoint}}</strong>, shown this once: copy it now.</p>
          <p class="key"><code id="webhook-secret">{{secret}}</code> <button type="button" data-copy="webhook-secret" aria-label="Copy the secret">Copy</button></p></div>{{/secret}}
        {{^hasEndpoints}}<section class="card"><p id="no-endpoints">No webhook endpoints yet.</p></section>{{/hasEndpoints}}
        {{#endpoints}}
        <section class="card" aria-labelledby="endpoint-{{id}}" data-endpoint="{{id}}">
          <div class="section-head">
            <h2 id="endpoint-{{id}}"><code>{{url}}</code></h2>
            <span class="muted">{{#enabled}}Enabled{{/enabled}}{{^enabled}}Disabled{{/enabled}}</span>
          </div>
          <p class="muted">Events: {{events}}. Added {{created}}.{{#overlapUntil}} The previous secret also signs until {{overlapUntil}}.{{/overlapUntil}}</p>
          {{#canWrite}}
          <div class="actions">
            <form method="post" action="/portal/orgs/{{orgID}}/webhooks/{{id}}/test" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" id="test-{{id}}">Send test event</button></form>
            <form method="post" action="/portal/orgs/{{orgID}}/webhooks/{{id}}/roll" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" id="roll-{{id}}">Roll secret</button></form>
            <form method="post" action="/portal/orgs/{{orgID}}/webhooks/{{id}}/{{#enabled}}disable{{/enabled}}{{^enabled}}enable{{/enabled}}" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" id="toggle-{{id}}">{{#enabled}}Disable{{/enabled}}{{^enabled}}Enable{{/enabled}}</button></form>
            <form method="post" action="/portal/orgs/{{orgID}}/webhooks/{{id}}/delete" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="danger" id="delete-{{id}}">Delete</button></form>
          </div>
          {{/canWrite}}
          <h3>Deliveries</h3>
          {{#hasDeliveries}}
          <div class="table-wrap">
          <table id="deliveries-{{id}}">
            <thead><tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last try</th><th scope="col">Next try</th><th scope="col">Response</th><th scope="col">Time</th>{{#canWrite}}<th scope="col"><span class="visually-hidden">Retry</span></th>{{/canWrite}}</tr></thead>
            <tbody>
            {{#deliveries}}<tr data-delivery="{{id}}"><td data-label="Event">{{eventType}}</td><td data-label="Status">{{status}}</td><td data-label="Attempts">{{attempts}}</td><td data-label="Last try">{{lastTry}}</td><td data-label="Next try">{{nextTry}}</td><td data-label="Response">{{response}}</td><td data-label="Time">{{time}}</td>
              {{#canWrite}}<td>{{#retryable}}<form method="post" action="/portal/orgs/{{orgID}}/webhooks/{{endpointID}}/deliveries/{{id}}/retry" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" id="retry-{{id}}">Retry</button></form>{{/retryable}}</td>{{/canWrite}}</tr>{{/deliveries}}
            </tbody>
          </table>
          </div>
          {{/hasDeliveries}}
          {{^hasDeliveries}}<p class="muted">Nothing sent yet.</p>{{/hasDeliveries}}
        </section>
        {{/endpoints}}
        {{#canWrite}}
        <section class="card" aria-labelledby="new-webhook-heading">
          <h2 id="new-webhook-heading">Add an endpoint</h2>
          <form method="post" action="/portal/orgs/{{orgID}}/webhooks" class="grid">
            <label for="webhook-url">URL</label><input id="webhook-url" name="url" type="url" required maxlength="2048" placeholder="https://hooks.example.com/keygate" value="{{formURL}}">
            <fieldset class="span"><legend>Events (none ticked: all)</legend>
              {{#eventChoices}}<label class="check"><input type="checkbox" name="event.{{value}}" value="on"{{#selected}} checked{{/selected}}> {{label}}</label>{{/eventChoices}}
            </fieldset>
            <input type="hidden" name="csrf" value="{{csrf}}">
            <div class="span"><button type="submit" class="primary" id="create-webhook">Add endpoint</button></div>
          </form>
        </section>
        {{/canWrite}}
        {{> foot}}
        """#

    static let roles = #"""
        {{> head}}
        <h1>Roles</h1>
        <p class="sub">{{orgName}}: what each role may do with API key management.</p>
        {{#done}}<p class="notice" role="status" id="done">{{done}}</p>{{/done}}
        {{#pageError}}<p class="error" role="alert" id="page-error">{{pageError}}</p>{{/pageError}}
        <section class="card">
          <div class="table-wrap">
          <table id="role-table">
            <thead><tr><th scope="col">Role</th><th scope="col">API key management</th></tr></thead>
            <tbody>
            {{#roles}}<tr data-role="{{name}}"><td data-label="Role">{{name}}</td><td data-label="API key management">
              {{#editable}}<form method="post" action="/portal/orgs/{{orgID}}/roles/{{id}}" class="inline">
                <input type="hidden" name="csrf" value="{{csrf}}">
                <select id="level-{{id}}" name="level" aria-label="API key management for {{name}}">{{#levels}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/levels}}</select>
                <button type="submit">Save</button></form>{{/editable}}
              {{^editable}}{{levelLabel}}{{#fixed}} <span class="muted">(cannot be edited)</span>{{/fixed}}{{/editable}}
            </td></tr>{{/roles}}
            </tbody>
          </table>
          </div>
        </section>
        {{#canWrite}}
        <section class="card" aria-labelledby="new-role-heading">
          <h2 id="new-role-heading">Add a role</h2>
          <form method="post" action="/portal/orgs/{{orgID}}/roles" class="grid">
            <label for="role-name">Name</label><input id="role-name" name="name" required maxlength="256">
            <label for="role-level">API key management</label>
            <select id="role-level" name="level"><option value="NONE">None</option><option value="READ_ONLY">View Only</option><option value="READ_WRITE">Full</option></select>
            <input type="hidden" name="csrf" value="{{csrf}}">
            <div class="span"><button type="submit" class="primary" id="create-role">Add role</button></div>
          </form>
        </section>
        {{/canWrite}}
        {{> foot}}
        """#
}
