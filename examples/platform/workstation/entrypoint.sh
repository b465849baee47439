#!/bin/sh
# The workstation's start: the user's init script from the persistent home, then the command.
if [ -f "$HOME/persistent-home/init.sh" ]; then
    echo "### Executing the user custom init script ###"
    bash "$HOME/persistent-home/init.sh"
    echo "### End of user custom init script ###"
fi
exec "$@"
