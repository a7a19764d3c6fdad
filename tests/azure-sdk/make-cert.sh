#!/usr/bin/env bash
# A certificate authority made for one test run, and a server certificate for 127.0.0.1 and localhost signed by it.
#   tests/azure-sdk/make-cert.sh DIR   ->  DIR/ca.pem (trust this), DIR/cert.pem and DIR/key.pem (serve with these)
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 1 \
  -subj "/CN=Drawbridge test CA" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem -days 1 -sha256 -extfile server.ext 2>/dev/null
rm -f ca.key server.csr server.ext ca.srl
