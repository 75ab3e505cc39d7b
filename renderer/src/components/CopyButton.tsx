/** Copies a value (id, digest, command) to the clipboard and says so. */
import { useState } from 'react';

async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // Refused (no permission, page not focused): fall through to the old way.
    }
  }
  // Outside a secure context the async clipboard is missing; the old way still works.
  const area = document.createElement('textarea');
  area.value = text;
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  document.execCommand('copy');
  area.remove();
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="btn small"
      aria-label={label}
      title={text}
      onClick={(e) => {
        e.stopPropagation();
        void copyText(text).then(() => {
          setCopied(true);
          setTimeout(() => setCopied(false), 1200);
        });
      }}
    >
      {copied ? 'Copied' : 'Copy'}
    </button>
  );
}

/** A monospace value with a copy button beside it. */
export function Copyable({ text, shown, label }: { text: string; shown?: string; label: string }) {
  return (
    <span className="copyable">
      <code title={text}>{shown ?? text}</code>
      <CopyButton text={text} label={label} />
    </span>
  );
}
