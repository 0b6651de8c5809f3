import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev` proxies /graphql to a gateway on :4000 (`npm start` at the repo root), so the app and the API share
// an origin as in production; `npm run build` writes dist/, which any static server (or the gateway's host) serves.
export default defineConfig({
  plugins: [react()],
  server: { proxy: { '/graphql': 'http://127.0.0.1:4000' } },
  build: { outDir: 'dist', emptyOutDir: true },
});
