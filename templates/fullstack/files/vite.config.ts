import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import tailwindcss from "@tailwindcss/vite";

// /api goes to the FastAPI back end (api/main.py) on port 8000. The preview
// reaches this server through Ollio's preview proxy, on a host of its own,
// from a sandboxed frame (origin `null`): any host and origin may load it.
export default defineConfig({
  plugins: [react(), tailwindcss()],
  server: {
    allowedHosts: true,
    cors: true,
    proxy: { "/api": "http://127.0.0.1:8000" },
  },
});
