import MarkdownIt from 'markdown-it';
import { type SafeHtml, trustedHtml } from './html.js';

// Raw HTML off: a description is text its author formats, never markup they inject.
const markdown = new MarkdownIt({ html: false, linkify: true, breaks: true });
markdown.validateLink = (url) => /^(https?:|mailto:)/i.test(url.trim());
const defaultLinkOpen =
  markdown.renderer.rules.link_open ??
  ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
markdown.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx]?.attrSet('rel', 'noreferrer noopener nofollow');
  return defaultLinkOpen(tokens, idx, options, env, self);
};
// Images would load from other origins (the CSP refuses them anyway): show their text only.
markdown.disable('image');

/** A description as Markdown: HTML off, only http(s) and mailto links. */
export function renderMarkdown(text: string): SafeHtml {
  return trustedHtml(markdown.render(text));
}
