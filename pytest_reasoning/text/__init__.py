"""Reading reasoning text: the thinking split (text and token ids), sentences,
normalisation, detours and hesitations.  Pure functions; nothing heavy imported."""
