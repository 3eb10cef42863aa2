#!/usr/bin/env bash
# Test certificates for a TLS topology, made with openssl into DIR:
#   ca.crt ca.key          the test CA
#   server.crt server.key  signed by it; SAN localhost, 127.0.0.1, ::1; server and client use
#                          (redis-server and redis-sentinel present it to each other too)
#   client.crt client.key  signed by it; client use (mutual TLS)
#   localhost.crt .key     signed by the CA; SAN DNS:localhost only (host-name topologies)
#   wrong-name.crt .key    signed by the CA; SAN DNS:wrong-name.invalid only (the name-mismatch case)
#   other-ca.crt           a CA that signed nothing here (the wrong-CA case)
#   expired.crt expired.key signed by the CA, valid only in January 2020
#
#   scripts/tls-certs.sh DIR
set -euo pipefail
dir=${1:?usage: $0 DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)  # absolute: the CA config below names it after the cd
cd "$dir"

quiet() { "$@" >/dev/null 2>&1 || { echo "tls-certs: failed: $*" >&2; "$@"; exit 1; }; }

new_ca() { # new_ca NAME
    quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.crt" -days 30 \
        -subj "/CN=sentinel-repl test $1" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign"
}

signed() { # signed NAME EXTENSIONS [openssl x509 options]
    local name=$1 extensions=$2; shift 2
    quiet openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=$name"
    printf '%s\n' "$extensions" >"$name.ext"
    quiet openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$name.crt" \
        -extfile "$name.ext" "$@"
    rm -f "$name.csr" "$name.ext"
}

new_ca ca
new_ca other-ca
rm -f other-ca.key
node_use="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
signed server "$node_use" -days 30
signed localhost "${node_use%subjectAltName=*}subjectAltName=DNS:localhost" -days 30
signed wrong-name "${node_use%subjectAltName=*}subjectAltName=DNS:wrong-name.invalid" -days 30
signed client "basicConstraints=CA:FALSE
extendedKeyUsage=clientAuth" -days 30

# An expired certificate: openssl x509 cannot date one in the past, openssl ca can.
mkdir -p expired-ca
: >expired-ca/index.txt
cat >expired-ca/ca.conf <<EOF
[ca]
default_ca = test
[test]
dir = $dir/expired-ca
database = \$dir/index.txt
new_certs_dir = \$dir
serial = \$dir/serial
certificate = $dir/ca.crt
private_key = $dir/ca.key
default_md = sha256
policy = any
copy_extensions = none
[any]
commonName = supplied
[ext]
$node_use
EOF
echo 01 >expired-ca/serial
quiet openssl req -newkey rsa:2048 -nodes -keyout expired.key -out expired.csr -subj "/CN=expired"
quiet openssl ca -batch -config expired-ca/ca.conf -extensions ext -in expired.csr -out expired.crt \
    -startdate 20200101000000Z -enddate 20200131000000Z -notext
rm -rf expired.csr expired-ca ca.srl
chmod 600 ./*.key
