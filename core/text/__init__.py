"""Written text into chunks: books and their chapters, markup, the spoken-form normalizer,
sentence ends and the chunk plan."""
