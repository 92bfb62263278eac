"""Server-side voice pipeline: sessions, segmentation, turn processing, providers."""
