# Prints each line of a maintainer script that starts, stops, restarts or reloads a unit outside
# an `if` that tests [ -d /run/systemd/system ]: such a line would act where systemd does not run
# (a chroot, a container, an image build).
/^[ \t]*if / {
    depth++
    guarded[depth] = ($0 ~ /-d \/run\/systemd\/system/)
}
/^[ \t]*fi([ \t;]|$)/ { depth-- }
/^[ \t]*#/ { next }
/deb-systemd-invoke|systemctl .*(start|stop|restart|daemon-reload)/ {
    ok = 0
    for (i = 1; i <= depth; i++)
        if (guarded[i])
            ok = 1
    if (!ok)
        print FILENAME ":" FNR ": " $0
}
