// The Code tab's terminal: xterm.js drawing the bytes of a WebSocket to the
// project's shell (src/server/http/terminal.rs), fitted to its panel, in
// Ollio's colours (CSS variables: light and dark follow the page), with
// copy and paste, and reconnecting after a dropped connection (the server
// keeps the shell and replays what it printed). Bundled into
// /pkg/terminal.js by scripts/lib.sh and imported by the project page when
// the terminal is first opened (src/app/project/terminal_panel.rs).

import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import styles from '@xterm/xterm/css/xterm.css';

const SIGNED_OUT = 4001;

function injectStyles() {
  if (document.getElementById('xterm-styles')) return;
  const style = document.createElement('style');
  style.id = 'xterm-styles';
  style.textContent = styles;
  document.head.appendChild(style);
}

/** The page's colours, as the style sheet has them now: its variables
 * hold `light-dark(…)`, so each is resolved through a probe element. */
function theme() {
  const probe = document.createElement('span');
  probe.style.display = 'none';
  document.body.appendChild(probe);
  const resolve = (name, fallback) => {
    probe.style.color = fallback;
    probe.style.color = `var(${name})`;
    return getComputedStyle(probe).color || fallback;
  };
  const colours = {
    background: resolve('--bg-elevated', '#ffffff'),
    foreground: resolve('--fg', '#111827'),
    cursor: resolve('--accent', '#4f46e5'),
    cursorAccent: resolve('--bg-elevated', '#ffffff'),
    selectionBackground: resolve('--accent-soft', '#e0e7ff'),
    selectionForeground: resolve('--fg', '#111827'),
  };
  probe.remove();
  return colours;
}

/**
 * Mounts a terminal in `parent` connected to `url` (a ws: or wss: address
 * without the size). `onStatus(state, message)` hears "connecting",
 * "connected", "reconnecting", "ended" (the shell exited) and "signed-out";
 * `onActivity()` is called once the output has been quiet for a moment
 * (commands may have changed files).
 */
export function mount(parent, url, onStatus, onActivity) {
  injectStyles();
  const term = new Terminal({
    cursorBlink: true,
    fontFamily: getComputedStyle(document.documentElement).getPropertyValue('--font-mono').trim() || 'monospace',
    fontSize: 13,
    scrollback: 5000,
    theme: theme(),
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(parent);
  fit.fit();

  let socket = null;
  let closing = false;
  let ended = false;
  let retries = 0;
  let quiet = null;
  const encoder = new TextEncoder();

  const send = (data) => {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(data);
  };
  const sendSize = () => send(JSON.stringify({ type: 'resize', cols: term.cols, rows: term.rows }));

  const connect = () => {
    onStatus(retries === 0 ? 'connecting' : 'reconnecting', '');
    const sized = `${url}?cols=${term.cols}&rows=${term.rows}`;
    const ws = new WebSocket(sized);
    ws.binaryType = 'arraybuffer';
    socket = ws;
    ws.onopen = () => {
      retries = 0;
      onStatus('connected', '');
    };
    ws.onmessage = (event) => {
      if (typeof event.data === 'string') {
        const message = JSON.parse(event.data);
        if (message.type === 'exit') {
          ended = true;
          term.write(`\r\n\x1b[2m${message.message}\x1b[0m\r\n`);
          onStatus('ended', message.message);
        }
        return;
      }
      term.write(new Uint8Array(event.data));
      clearTimeout(quiet);
      quiet = setTimeout(onActivity, 700);
    };
    ws.onclose = (event) => {
      if (socket !== ws || closing) return;
      socket = null;
      if (event.code === SIGNED_OUT) {
        onStatus('signed-out', 'You signed out: sign in again to use the terminal.');
        return;
      }
      if (ended) return;
      // Dropped: try again, less and less often.
      retries += 1;
      onStatus('reconnecting', '');
      setTimeout(() => {
        if (!closing && !socket) connect();
      }, Math.min(500 * 2 ** (retries - 1), 10000));
    };
  };

  term.onData((data) => send(encoder.encode(data)));
  term.onResize(sendSize);
  // Ctrl+Shift+C copies the selection, Ctrl+Shift+V pastes (Ctrl+C stays
  // the shell's interrupt).
  term.attachCustomKeyEventHandler((event) => {
    if (event.type !== 'keydown' || !event.ctrlKey || !event.shiftKey) return true;
    const key = event.key.toLowerCase();
    if (key === 'c') {
      copy();
      return false;
    }
    if (key === 'v') {
      paste();
      event.preventDefault();
      return false;
    }
    return true;
  });
  const copy = () => {
    const text = term.getSelection();
    if (text) navigator.clipboard?.writeText(text).catch(() => {});
    return text;
  };
  const paste = () =>
    navigator.clipboard?.readText().then((text) => text && term.paste(text)).catch(() => {});

  const resized = new ResizeObserver(() => {
    try {
      fit.fit();
    } catch (_) {
      // Hidden: nothing to fit.
    }
  });
  resized.observe(parent);
  const recolour = new MutationObserver(() => {
    term.options.theme = theme();
  });
  recolour.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });

  connect();
  term.focus();
  return {
    focus: () => term.focus(),
    copy,
    paste,
    /** A new connection: after the shell ended, a new shell. */
    reconnect: () => {
      ended = false;
      retries = 0;
      if (socket) socket.close();
      socket = null;
      connect();
    },
    /** What the terminal shows, as text (for tests and screen readers). */
    text: () => {
      const buffer = term.buffer.active;
      const lines = [];
      for (let i = 0; i < buffer.length; i += 1) lines.push(buffer.getLine(i).translateToString(true));
      return lines.join('\n');
    },
    destroy: () => {
      closing = true;
      clearTimeout(quiet);
      resized.disconnect();
      recolour.disconnect();
      if (socket) socket.close();
      term.dispose();
    },
  };
}
