/**
 * The pages' automated accessibility check: axe-core (the engine behind most
 * browser accessibility tools) run inside the page, WCAG 2.0/2.1 A and AA
 * rules (labels, names, contrast, keyboard-reachable controls, landmarks).
 * It is evaluated through the DevTools protocol, so the pages' strict CSP
 * stays on. Throws with every violation's rule, impact and elements.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Checks what the page shows now; `what` names the page state in the error. */
export async function checkAccessibility(page: Page, what: string): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: Violation[] }> } }
    ).axe;
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target })),
    }));
  });
  if (violations.length) {
    const lines = violations.map(
      (v) =>
        `- ${v.id} (${v.impact}): ${v.help}; ${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 5)
          .join(', ')}`,
    );
    throw new Error(`${what}: ${violations.length} accessibility violation(s)\n${lines.join('\n')}`);
  }
}
