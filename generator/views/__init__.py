"""One builder per output kind: model -> plain data for a template."""
