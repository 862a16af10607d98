"""`bt-dispatcher`, the program: its command line (`options`), its loop (`cli`) and its screen
(`screen`, shared with the shell's `dispatcher status`). The dispatcher itself is `bt.dispatch`."""
