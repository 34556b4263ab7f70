"""Jobs: their states and the allowed changes of a chunk's state, ids, webhook bodies and which
callback URLs may be called."""
