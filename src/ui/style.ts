/** The one stylesheet, served by the Worker at /assets/style.css (the CSP allows no inline style). */
export const STYLESHEET = `
*,*::before,*::after{box-sizing:border-box}
:root{--fg:#1c2230;--muted:#5b6473;--bg:#f5f6f8;--card:#fff;--line:#d9dde3;--accent:#1f5fbf;--accent-fg:#fff;--danger:#b42318;--ok:#067647;color-scheme:light}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-size:100%;line-height:1.5;color:var(--fg);background:var(--bg)}
body{margin:0;min-height:100vh;display:flex;flex-direction:column}
header.site{background:var(--card);border-bottom:1px solid var(--line);padding:.75rem 1rem;display:flex;gap:1rem;align-items:center;justify-content:space-between;flex-wrap:wrap}
header.site .brand{font-weight:700;color:var(--fg);text-decoration:none}
header.site form{margin:0}
main{width:100%;max-width:40rem;margin:1.5rem auto;padding:0 1rem;flex:1}
main.wide{max-width:56rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:.75rem;padding:1.25rem 1.5rem;margin-bottom:1.25rem}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}
h2{font-size:1.15rem;margin:1.5rem 0 .75rem}
p{margin:0 0 1rem}
.muted{color:var(--muted)}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
.hint{display:block;font-weight:400;color:var(--muted);font-size:.9rem}
input[type=text],input[type=email],input[type=password],input[type=url],textarea{width:100%;font:inherit;padding:.6rem .7rem;border:1px solid #9aa3b0;border-radius:.5rem;background:#fff;color:var(--fg)}
textarea{min-height:6rem}
input:focus-visible,textarea:focus-visible,button:focus-visible,a:focus-visible{outline:3px solid #7aa7ee;outline-offset:2px}
fieldset{border:1px solid var(--line);border-radius:.5rem;margin:1rem 0;padding:.5rem 1rem}
fieldset label{font-weight:400;margin:.4rem 0;display:flex;gap:.5rem;align-items:flex-start}
legend{font-weight:600;padding:0 .25rem}
button,.button{display:inline-block;font:inherit;font-weight:600;padding:.65rem 1.2rem;border-radius:.5rem;border:1px solid var(--accent);background:var(--accent);color:var(--accent-fg);cursor:pointer;text-decoration:none;min-height:2.75rem}
button.secondary,.button.secondary{background:#fff;color:var(--accent)}
button.danger{background:#fff;color:var(--danger);border-color:var(--danger)}
button.link{background:none;border:none;color:var(--accent);padding:0;min-height:0;text-decoration:underline;font-weight:400}
.actions{display:flex;gap:.75rem;flex-wrap:wrap;margin-top:1.25rem}
.actions form{margin:0}
.error{border-left:4px solid var(--danger);background:#fef3f2;padding:.75rem 1rem;border-radius:.25rem;margin-bottom:1rem}
.notice{border-left:4px solid var(--ok);background:#ecfdf3;padding:.75rem 1rem;border-radius:.25rem;margin-bottom:1rem}
.app{display:flex;gap:1rem;align-items:center;margin-bottom:1rem}
.app img{width:64px;height:64px;border-radius:.75rem;object-fit:cover;border:1px solid var(--line);background:#fff}
.app .logo-placeholder{width:64px;height:64px;border-radius:.75rem;background:#dde6f5;display:flex;align-items:center;justify-content:center;font-size:1.75rem;font-weight:700;color:var(--accent)}
ul.scopes{padding-left:1.25rem;margin:0 0 1rem}
ul.scopes li{margin:.35rem 0}
dl.secret{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1rem;margin:0 0 1rem}
dl.secret dt{font-weight:600}
dl.secret dd{margin:0;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all;background:#f0f2f5;padding:.2rem .4rem;border-radius:.25rem}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:.5rem .25rem;border-bottom:1px solid var(--line);vertical-align:top}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;word-break:break-all}
pre{background:#f0f2f5;padding:.6rem .8rem;border-radius:.25rem;overflow-x:auto;white-space:pre-wrap}
pre code{overflow-wrap:anywhere}
footer{color:var(--muted);font-size:.85rem;text-align:center;padding:1rem}
@media (max-width:30rem){.card{padding:1rem}h1{font-size:1.3rem}.actions button,.actions .button{width:100%}.actions form{width:100%}}
`;
