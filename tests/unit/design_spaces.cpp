// placeholder: tests of this file's subject are added by the work on issue 7
