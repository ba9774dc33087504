# Sourced by the baseline scripts in bench/issue/. Node i (1-based) is named nodeNNN (3 digits,
# more when N > 999) and has the address 10.1.(i/256).(i%256) - the same names and addresses
# bench/issue.mjs writes into dbtls's inventory.
node_name() { printf 'node%03d' "$1"; }
node_ip() { printf '10.1.%d.%d' $(($1 / 256)) $(($1 % 256)); }
