"""Review: the chart rendered by Helm, `gen diff`, the rendered diff and `gen validate`."""
