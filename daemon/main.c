/* main.c: placeholder */
