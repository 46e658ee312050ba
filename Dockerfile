# The Innsiktsbanken image: the web server and the ingestion worker (docker-compose.yml).
# Debian's Node 20 image has the C compiler better-sqlite3 and native/innsikt_fts.c need;
# poppler-utils and Tesseract with its Norwegian model read scanned pages (ingest/extract/ocr.ts).
FROM node:20-bookworm-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 make g++ poppler-utils tesseract-ocr tesseract-ocr-nor && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY native ./native
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
ENV INNSIKT_DATA_DIR=/data INNSIKT_HOST=0.0.0.0 PORT=3000
VOLUME /data
EXPOSE 3000
USER node
CMD ["node", "bin/innsikt.js", "serve"]
