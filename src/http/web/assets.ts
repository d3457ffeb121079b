/**
 * The one stylesheet: light and dark, 44 px targets, visible focus, nothing wider than a phone.
 * On a phone the decision's buttons stay at the foot of the screen, so the first screen holds
 * both what is asked and how to answer.
 */
export const STYLESHEET = `:root{color-scheme:light dark;--fg:#1f2328;--muted:#57606a;--bg:#fff;--panel:#f6f8fa;--line:#d0d7de;
--accent:#0969da;--ok:#1a7f37;--bad:#cf222e;--warn:#fff8c5;--warn-fg:#3b2300;--okbg:#dafbe1;--badbg:#ffebe9}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--panel:#161b22;--line:#3d444d;
--accent:#4493f8;--ok:#238636;--bad:#da3633;--warn:#3b2e00;--warn-fg:#f2cc60;--okbg:#033a16;--badbg:#490202}}
*{box-sizing:border-box}html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);overflow-wrap:anywhere}
a{color:var(--accent)}a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1em;top:1em;background:var(--bg);padding:.5em;z-index:1}
header.top{display:flex;flex-wrap:wrap;align-items:center;gap:.5em 1em;padding:.5em 1em;border-bottom:1px solid var(--line);background:var(--panel)}
header.top .brand{font-weight:700;text-decoration:none;color:var(--fg);min-height:44px;display:inline-flex;align-items:center}
header.top .who{margin-left:auto;color:var(--muted)}header.top form{margin:0}
main{max-width:52rem;margin:0 auto;padding:1rem}footer.bottom{max-width:52rem;margin:2rem auto;padding:0 1rem;color:var(--muted);font-size:.875em}
h1{font-size:1.5em;line-height:1.25;margin:.5em 0}h2{font-size:1.15em;margin:1.5em 0 .5em}
.muted{color:var(--muted)}pre,code{white-space:pre-wrap}
button,.button{font:inherit;min-height:44px;min-width:44px;padding:.5em 1.2em;border-radius:6px;border:1px solid var(--line);background:var(--panel);color:var(--fg);cursor:pointer;text-decoration:none;display:inline-flex;align-items:center;justify-content:center}
.approve{background:var(--ok);border-color:var(--ok);color:#fff}.reject{background:var(--bad);border-color:var(--bad);color:#fff}
.selected{box-shadow:0 0 0 3px var(--bg),0 0 0 6px var(--accent)}
input,select,textarea{font:inherit;color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:6px;min-height:44px;padding:.4em .6em;max-width:100%}
textarea{width:100%;min-height:6em}label{display:block;font-weight:600;margin:.75em 0 .25em}
.actions{display:flex;flex-wrap:wrap;gap:.75em;margin-top:1em}
@media (max-width:40rem){form#decide .actions{position:fixed;left:0;right:0;bottom:0;z-index:2;margin:0;padding:.6em 1rem;background:var(--panel);border-top:1px solid var(--line)}
form#decide .actions button{flex:1 1 0}body:has(form#decide){padding-bottom:5rem}}
.banner{padding:.75em 1em;border-radius:6px;background:var(--warn);color:var(--warn-fg);margin:1em 0}
.banner.ok{background:var(--okbg);color:var(--fg)}.banner.bad{background:var(--badbg);color:var(--fg)}
.badge{display:inline-block;padding:0 .5em;border-radius:1em;border:1px solid var(--line);font-size:.875em}
.status-approved{border-color:var(--ok)}.status-rejected{border-color:var(--bad)}
table{border-collapse:collapse;width:100%;table-layout:fixed}th,td{text-align:left;vertical-align:top;padding:.35em .5em;border-bottom:1px solid var(--line)}
th{width:35%;font-weight:600}.advice{border-left:3px solid #8250df;padding-left:.8em}
.stage{border:1px solid var(--line);border-radius:6px;padding:.5em 1em;margin:.5em 0}.stage h3{font-size:1em;margin:.25em 0}
ul.plain{list-style:none;padding:0;margin:0}ul.timeline li{padding:.25em 0;border-bottom:1px solid var(--line)}
nav.tabs{display:flex;flex-wrap:wrap;gap:.5em;margin:1em 0}nav.tabs a{min-height:44px;display:inline-flex;align-items:center;padding:0 .75em;border-radius:6px;text-decoration:none}
nav.tabs a[aria-current=page]{background:var(--panel);font-weight:700;border:1px solid var(--line)}
form.filters{display:flex;flex-wrap:wrap;gap:.5em;align-items:flex-end}form.filters label{margin:0}form.filters div{flex:1 1 10em;min-width:0}
form.filters input,form.filters select{width:100%}
ul.items{list-style:none;padding:0}ul.items li{border:1px solid var(--line);border-radius:6px;padding:.75em 1em;margin:.5em 0}
ul.items a.title{font-weight:600;display:inline-block;min-height:44px;padding:.6em 0}
.pager{display:flex;justify-content:flex-end;margin:1em 0}
fieldset.inputs{border:1px solid var(--line);border-radius:6px;padding:.5em 1em;margin:1em 0}.input.check label{display:inline}p.hint{margin:.25em 0}`;

/**
 * The one script: deadlines in the viewer's time zone (named, as every time signoff shows is), and live updates over server-sent
 * events (the page's `data-events` names its stream). Without it every page still works.
 */
export const SCRIPT = `(function(){
function localTimes(root){root.querySelectorAll('time[datetime]').forEach(function(t){var d=new Date(t.getAttribute('datetime'));
if(!isNaN(d))t.textContent=d.toLocaleString(undefined,{weekday:'short',day:'numeric',month:'short',year:'numeric',hour:'2-digit',minute:'2-digit',timeZoneName:'short'});});}
localTimes(document);
var main=document.querySelector('[data-events]');if(!main||!window.EventSource)return;
var busy=false,again=false;
function refresh(){if(busy){again=true;return;}busy=true;
fetch(location.href,{headers:{accept:'text/html'},credentials:'same-origin'}).then(function(r){return r.text();}).then(function(text){
var next=new DOMParser().parseFromString(text,'text/html');
var form=document.querySelector('[data-keep]');var nextForm=next.querySelector('[data-keep]');
var picked={};document.querySelectorAll('input.pick:checked').forEach(function(i){picked[i.value]=true;});
next.querySelectorAll('[data-live]').forEach(function(part){var here=document.getElementById(part.id);if(here){here.innerHTML=part.innerHTML;localTimes(here);}});
document.querySelectorAll('input.pick').forEach(function(i){if(picked[i.value])i.checked=true;});
if(form&&!nextForm)form.remove();document.title=next.title;
}).finally(function(){busy=false;if(again){again=false;refresh();}});}
var source=new EventSource(main.getAttribute('data-events'));source.addEventListener('change',refresh);
source.addEventListener('open',function(){document.documentElement.setAttribute('data-live','on');});
})();`;
