/// The portal's stylesheet and script, served from the binary (no build step, no CDN, works offline).
enum PortalAssets {
    static let css = #"""
        :root { --fg: #1a1d21; --muted: #4d5560; --bg: #f4f6f8; --card: #ffffff; --line: #c9d0d8; --accent: #0b57d0;
          --accent-fg: #ffffff; --danger: #b3261e; --ok-bg: #e6f4ea; --ok-fg: #0d5223; --warn-bg: #fff4e5; --warn-fg: #6a3d00;
          --focus: #f59e0b; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--bg); line-height: 1.45; overflow-wrap: break-word; }
        .sub, .who, h1, td a { overflow-wrap: anywhere; } td code { white-space: nowrap; }
        .skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: var(--card); padding: 6px; }
        .bar { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; padding: 10px 20px; background: #102a43; color: #fff; }
        .bar .brand { font-weight: 700; font-size: 1.1rem; margin-right: auto; }
        .bar label { font-size: .85rem; margin-right: 4px; }
        .bar a, .bar .link { color: #fff; }
        .bar select { padding: 4px; max-width: 100%; }
        .bar form.switch { max-width: 100%; }
        main { max-width: 980px; margin: 0 auto; padding: 20px; }
        h1 { margin: 8px 0 0; font-size: 1.6rem; } .sub { margin: 0 0 16px; color: var(--muted); }
        h2 { font-size: 1.15rem; margin: 0 0 10px; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 16px; margin: 16px 0; }
        .narrow { max-width: 420px; margin: 40px auto; }
        .stack { display: flex; flex-direction: column; gap: 8px; }
        .section-head { display: flex; justify-content: space-between; align-items: center; }
        input { font: inherit; padding: 8px; border: 1px solid #6b7480; border-radius: 4px; }
        button { font: inherit; padding: 7px 14px; border: 1px solid #6b7480; border-radius: 4px; background: #fff; color: var(--fg); cursor: pointer; }
        button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-fg); }
        button.danger { background: var(--danger); border-color: var(--danger); color: #fff; }
        button.link { background: none; border: none; text-decoration: underline; padding: 0; }
        button:disabled { opacity: .55; cursor: not-allowed; }
        :focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
        code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .95rem; }
        .copyline { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; } .copyline code { word-break: break-all; }
        .table-wrap { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: 8px; border-bottom: 1px solid var(--line); vertical-align: middle; }
        th { font-size: .85rem; color: var(--muted); }
        .key { display: inline-flex; gap: 6px; align-items: center; flex-wrap: wrap; }
        .key button svg { vertical-align: middle; } button[aria-pressed=true] { background: #e8eefc; }
        .actions, .dialog-actions { display: flex; gap: 8px; margin-top: 12px; flex-wrap: wrap; }
        .dialog-actions { justify-content: flex-end; }
        .notice { background: var(--ok-bg); color: var(--ok-fg); padding: 8px 12px; border-radius: 4px; }
        .warning { background: var(--warn-bg); color: var(--warn-fg); padding: 8px 12px; border-radius: 4px; }
        .error { color: var(--danger); } .error:empty { display: none; }
        .muted { color: var(--muted); font-size: .9rem; }
        .empty { padding: 12px; border: 1px dashed var(--line); border-radius: 6px; }
        dialog { border: 1px solid var(--line); border-radius: 8px; max-width: 520px; width: calc(100% - 24px); padding: 18px; }
        dialog::backdrop { background: rgba(16, 42, 67, .45); }
        dialog label { display: block; margin-top: 8px; font-weight: 600; }
        dialog input[type=text], dialog input:not([type]) { width: 100%; }
        .consequence { background: var(--warn-bg); color: var(--warn-fg); padding: 8px; border-radius: 4px; }
        .chooser { list-style: none; padding: 0; } .chooser li { display: flex; align-items: center; gap: 8px; padding: 4px 0; }
        .chooser label { margin: 0; font-weight: 400; flex: 1; } .chooser button { padding: 2px 8px; }
        .tabs { display: flex; gap: 4px; flex-wrap: wrap; padding: 0 20px; background: #dfe6ee; }
        .tabs a { padding: 8px 12px; color: var(--fg); text-decoration: none; border-bottom: 3px solid transparent; }
        .tabs a[aria-current=page] { border-bottom-color: var(--accent); font-weight: 600; }
        .filters { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-bottom: 12px; }
        a.button { padding: 7px 14px; border: 1px solid #6b7480; border-radius: 4px; color: var(--fg); text-decoration: none; background: #fff; }
        form.inline { display: inline-flex; gap: 6px; align-items: center; flex-wrap: wrap; margin: 0; }
        .grid { display: grid; grid-template-columns: minmax(120px, max-content) 1fr; gap: 8px 12px; align-items: center; }
        .grid .span { grid-column: 1 / -1; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
        @media (max-width: 600px) {
          .grid { grid-template-columns: 1fr; }
          main { padding: 10px; } .bar { padding: 8px 10px; }
          #key-table thead { position: absolute; left: -9999px; }
          #key-table tr, #key-table td { display: block; } #key-table td { border: none; padding: 6px 0; }
          #key-table td::before { content: attr(data-label); display: block; font-size: .8rem; color: var(--muted); }
        }
        """#

    static let js = #"""
        "use strict";
        document.addEventListener("DOMContentLoaded", () => {
          // Dialogs: <dialog> gives keyboard handling (Esc closes, focus stays inside) for free.
          document.querySelectorAll("[data-dialog]").forEach((button) => {
            button.addEventListener("click", () => document.getElementById("dialog-" + button.dataset.dialog).showModal());
          });
          document.querySelectorAll("dialog [data-close]").forEach((button) => {
            button.addEventListener("click", () => button.closest("dialog").close());
          });
          document.querySelectorAll("dialog[data-open]").forEach((dialog) => dialog.showModal());

          // Reveal the key (eye toggle) and copy buttons.
          document.querySelectorAll("[data-reveal]").forEach((button) => {
            const target = document.getElementById(button.dataset.reveal);
            button.addEventListener("click", () => {
              const shown = button.getAttribute("aria-pressed") === "true";
              target.textContent = shown ? "••••••••••••" : target.dataset.secret;
              target.setAttribute("aria-label", shown ? "API key, hidden" : "API key");
              button.setAttribute("aria-pressed", String(!shown));
              button.setAttribute("aria-label", shown ? "Show the key" : "Hide the key");
            });
          });
          document.querySelectorAll("[data-copy]").forEach((button) => {
            button.addEventListener("click", async () => {
              const target = document.getElementById(button.dataset.copy);
              const text = target.dataset.secret || target.textContent.trim();
              const label = button.textContent;
              try { await navigator.clipboard.writeText(text); button.textContent = "Copied"; }
              catch (e) { button.textContent = "Copy failed"; }
              setTimeout(() => { button.textContent = label; }, 1500);
            });
          });

          // Times in the admin's own time zone; ISO 8601 (UTC) on hover.
          document.querySelectorAll("time[datetime]").forEach((t) => {
            const d = new Date(t.getAttribute("datetime"));
            if (!isNaN(d)) t.textContent = d.toLocaleString();
          });

          // Live validation of key fields (the server checks again).
          document.querySelectorAll("form[data-key-form]").forEach((form) => {
            const input = form.querySelector("input[name=keyValue]");
            const error = document.getElementById(input.getAttribute("aria-describedby").split(" ")[1]);
            const check = () => {
              const v = input.value;
              let message = "";
              if (v === "" && input.hasAttribute("data-optional")) message = "";
              else if (!/^[A-Za-z0-9]{12}$/.test(v)) message = "The key must be exactly 12 characters of A–Z, a–z and 0–9.";
              else if (input.dataset.currentKey && v === input.dataset.currentKey) message = "That is the current key: choose a different one.";
              error.textContent = message;
              input.setAttribute("aria-invalid", message ? "true" : "false");
              return message === "";
            };
            input.addEventListener("input", check);
            form.addEventListener("submit", (event) => { if (!check()) { event.preventDefault(); input.focus(); } });
          });

          // Column chooser: move rows up and down; the hidden field carries the shown columns in order.
          document.querySelectorAll("form[data-columns-form]").forEach((form) => {
            const list = form.querySelector("ul");
            list.addEventListener("click", (event) => {
              const button = event.target.closest("button[data-move]");
              if (!button) return;
              const item = button.closest("li");
              if (button.dataset.move === "up" && item.previousElementSibling) list.insertBefore(item, item.previousElementSibling);
              if (button.dataset.move === "down" && item.nextElementSibling) list.insertBefore(item.nextElementSibling, item);
              button.focus();
            });
            form.addEventListener("submit", () => {
              form.querySelector("input[name=columns]").value = Array.from(list.querySelectorAll("input[type=checkbox]:checked"))
                .map((c) => c.value).join(",");
            });
          });

          document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
            select.addEventListener("change", () => select.form.submit());
          });
        });
        """#
}
