import { defineConfig } from 'vite';

// The console is served at /console by the gateway; the bundle goes to
// ../dist, which the Go package embeds.
export default defineConfig({
  base: '/console/',
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    chunkSizeWarningLimit: 1000,
    sourcemap: false,
  },
});
