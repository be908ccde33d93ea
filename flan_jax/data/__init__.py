"""Task data: templates, the toy collection, vocabularies and the task catalog."""
