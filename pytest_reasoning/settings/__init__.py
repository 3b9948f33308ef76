"""Settings: what a setting is (:mod:`.kinds`) and the one table every option, ini key,
marker keyword and validation comes from (:mod:`.table`).  Backends declare their own
settings with :class:`.kinds.Setting`; the table gathers them."""
