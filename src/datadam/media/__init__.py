"""Media files behind items: validated uploads (images, audio, EDF signals) in content-hash keyed
storage (a local folder or S3-compatible), and the signal reader for sleep staging."""
