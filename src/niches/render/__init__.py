"""Renderers: turn results into text (markdown, JSON) or rich renderables. They never print."""
