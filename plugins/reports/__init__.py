"""The reports plugin: lists, filters, shows and exports every report the plugins declare."""
