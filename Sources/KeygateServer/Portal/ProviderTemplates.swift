/// The provider console's templates (see ``PortalTemplates``).
enum ProviderTemplates {
    static let head = #"""
        {{> document}}
        <header class="bar provider">
          <span class="brand">Keygate · Provider console</span>
          {{#operator}}
          <a href="/provider">Organizations</a>
          <span class="who">{{operator}}</span>
          <form method="post" action="/provider/signout">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <button type="submit" class="link" id="sign-out">Sign out</button>
          </form>
          {{/operator}}
        </header>
        <main id="main">
        """#

    static let signin = #"""
        {{> phead}}
        <section class="card narrow">
          <h1>Provider console</h1>
          <p class="muted">Operator accounts are created with <code>keygate provider create-operator</code>.</p>
          {{#error}}<p class="error" role="alert" id="signin-error">{{error}}</p>{{/error}}
          <form method="post" action="/provider/signin" class="stack">
            <label for="loginName">Operator login</label>
            <input id="loginName" name="loginName" autocomplete="username" required maxlength="256" value="{{loginName}}">
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
            <button type="submit" class="primary">Sign in</button>
          </form>
        </section>
        {{> foot}}
        """#

    static let orgs = #"""
        {{> phead}}
        <h1>Organizations</h1>
        {{#done}}<p class="notice" role="status" id="done">{{done}}</p>{{/done}}
        <section class="card">
          <form method="get" action="/provider" class="filters" role="search">
            <label for="org-search">Name starts with</label>
            <input id="org-search" name="q" value="{{q}}" maxlength="256">
            <button type="submit">Search</button>
          </form>
          <div class="table-wrap">
          <table id="org-table">
            <thead><tr><th scope="col">Organization</th><th scope="col">Admins</th><th scope="col">Key</th><th scope="col">Last used</th></tr></thead>
            <tbody>
            {{#orgs}}<tr data-org="{{name}}"><td data-label="Organization"><a href="/provider/orgs/{{id}}">{{name}}</a></td><td data-label="Admins">{{admins}}</td>
              <td data-label="Key">{{keyStatus}}</td><td data-label="Last used">{{#lastUsed}}<time datetime="{{lastUsed}}" title="{{lastUsed}}">{{lastUsed}}</time>{{/lastUsed}}{{^lastUsed}}Never{{/lastUsed}}</td></tr>{{/orgs}}
            </tbody>
          </table>
          </div>
          <p class="muted" id="org-count">{{count}} organization(s) · page {{page}} of {{pages}}</p>
          <nav class="pager" aria-label="Pages">{{#prev}}<a href="{{prev}}" rel="prev" id="prev-page">Previous</a>{{/prev}} {{#next}}<a href="{{next}}" rel="next" id="next-page">Next</a>{{/next}}</nav>
        </section>
        <section class="card" aria-labelledby="create-heading">
          <h2 id="create-heading">Create an organization</h2>
          {{#formError}}<p class="error" role="alert" id="create-error">{{formError}}</p>{{/formError}}
          <form method="post" action="/provider/orgs" class="grid">
            <label for="org-name">Name</label><input id="org-name" name="name" required maxlength="256" value="{{formName}}">
            <label for="org-admin">Super Admin login</label><input id="org-admin" name="adminLogin" required maxlength="128" value="{{formAdmin}}">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <div class="span"><button type="submit" class="primary" id="create-org">Create</button></div>
          </form>
        </section>
        {{> foot}}
        """#

    static let created = #"""
        {{> phead}}
        <h1>{{name}} is ready</h1>
        <section class="card" id="created">
          <p>Hand these to the organization's Super Admin. The password is shown only now.</p>
          <table>
            <tr><th scope="row">Login name</th><td><code id="created-login">{{login}}</code></td></tr>
            <tr><th scope="row">Password</th><td><code id="created-password">{{password}}</code></td></tr>
            <tr><th scope="row">API key</th><td><code id="created-key">{{key}}</code></td></tr>
          </table>
          <p><a href="/provider/orgs/{{id}}">Open {{name}}</a> · <a href="/provider">All organizations</a></p>
        </section>
        {{> foot}}
        """#

    static let org = #"""
        {{> phead}}
        <h1>{{name}}</h1>
        {{#done}}<p class="notice" role="status" id="done">{{done}}</p>{{/done}}
        <section class="card" aria-labelledby="key-heading">
          <h2 id="key-heading">API key</h2>
          {{#hasKey}}
          <p id="key-status">Status: <strong>{{keyStatus}}</strong> · last modified by {{modifiedBy}} on <time datetime="{{modifiedOn}}" title="{{modifiedOn}}">{{modifiedOn}}</time></p>
          <form method="post" action="/provider/orgs/{{id}}/key">
            <input type="hidden" name="csrf" value="{{csrf}}">
            {{#enabled}}<input type="hidden" name="action" value="disable"><p class="consequence">Disabling stops every API request of {{name}} at once; {{sessions}} live API session(s) will end.</p>
            <button type="submit" class="danger" id="disable-key">Disable key</button>{{/enabled}}
            {{^enabled}}<input type="hidden" name="action" value="enable"><button type="submit" class="primary" id="enable-key">Enable key</button>{{/enabled}}
          </form>
          {{/hasKey}}
          {{^hasKey}}<p id="key-status">No key: the organization's admins can add one.</p>{{/hasKey}}
        </section>
        <section class="card" aria-labelledby="usage-heading" id="usage">
          <h2 id="usage-heading">API usage</h2>
          {{#usage}}
          <p><strong id="usage-today">{{today}}</strong> requests today, <strong id="usage-week">{{week}}</strong> in the last 7 days (UTC).</p>
          {{#hasAdmins}}
          <div class="table-wrap"><table id="usage-table">
            <thead><tr><th scope="col">Admin</th><th scope="col">Today</th><th scope="col">Last 7 days</th></tr></thead>
            <tbody>{{#admins}}<tr><td data-label="Admin">{{name}}</td><td data-label="Today">{{today}}</td><td data-label="Last 7 days">{{week}}</td></tr>{{/admins}}</tbody>
          </table></div>
          {{/hasAdmins}}
          {{/usage}}
        </section>
        <section class="card" aria-labelledby="audit-heading">
          <h2 id="audit-heading">Audit trail</h2>
          <div class="table-wrap">
          <table id="audit-table">
            <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Event</th><th scope="col">Detail</th></tr></thead>
            <tbody>{{#events}}<tr><td data-label="When"><time datetime="{{iso}}" title="{{iso}}">{{iso}}</time></td><td data-label="Who">{{actor}}</td><td data-label="Event"><code>{{action}}</code></td><td data-label="Detail">{{detail}}</td></tr>{{/events}}</tbody>
          </table>
          </div>
        </section>
        {{> foot}}
        """#

    static let message = #"""
        {{> phead}}
        <section class="card narrow">
          <h1>{{heading}}</h1>
          <p id="message">{{text}}</p>
          <p><a href="/provider">Back to the console</a></p>
        </section>
        {{> foot}}
        """#
}
