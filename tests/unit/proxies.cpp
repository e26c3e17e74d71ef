// placeholder: filled by the work on the tensor issue
