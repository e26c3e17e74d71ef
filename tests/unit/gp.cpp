// placeholder: filled by the work on its issue
