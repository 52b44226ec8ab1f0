"""The backup engine: plain Python, no Django.

    crypto       streaming AES-256-GCM chunked format, key ring
    archive      tar.gz / tar.zst / zip writers and readers (streamed)
    manifest     what a run holds: every file with size, mtime, mode, SHA-256; diff with a parent
    scan         walking source trees into manifest entries
    pipeline     backup (sources -> archive -> crypto -> sink) and verify
    restore      rebuilding a run's tree from its chain of archives, path-safe
    pathsafety   the checks every restored name passes
    retention    restic-style `forget` policy
    database     SQLite online backup, pg_dump / pg_restore
    destinations local directory (temp + fsync + rename) and S3 (multipart)
"""
