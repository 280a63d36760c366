import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";

// The preview reaches this server through Ollio's preview proxy, on a host
// of the sandbox's own, from a sandboxed frame (origin `null`): any host and
// any origin may load it. The sandbox has no other network to protect.
export default defineConfig({
  plugins: [vue()],
  server: { allowedHosts: true, cors: true },
});
