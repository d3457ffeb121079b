import { describe, expect, it } from 'vitest';
import { html, trustedHtml } from '../src/html.js';

describe('html templates', () => {
  it('escape every interpolated value unless it is markup already', () => {
    const name = `<img src=x onerror="alert('x')">&`;
    const item = (text: string) => html`<li>${text}</li>`;
    const page = html`<p title="${name}">${name}</p><ul>${[name, 'b'].map(item)}</ul>${trustedHtml('<hr>')}`;
    expect(page.toString()).toBe(
      '<p title="&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;">&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;</p>' +
        '<ul><li>&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;</li><li>b</li></ul><hr>',
    );
  });

  it('render nothing for null, undefined and a failed condition, and numbers as text', () => {
    const missing: string | null = null;
    expect(html`[${missing}${undefined}${false}${0}${missing && html`<b>x</b>`}]`.toString()).toBe('[0]');
  });
});
