#!/usr/bin/env bash
# Verity: make a throw-away certificate authority (ECDSA P-256) for trying things out.
# See certs/README.md. Not for production: an agency issues from its own CA.
set -euo pipefail
export LC_ALL=C

prog=$(basename "$0")
script_dir=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}" 2>/dev/null || printf %s "${BASH_SOURCE[0]}")")" && pwd)
ca_cnf="$script_dir/openssl/ca.cnf"

usage() {
    cat <<EOF
Usage: $prog [--days N] DIR [NAME]

Makes a test certificate authority in DIR (created if missing, mode 0700):
  DIR/ca.pem       the CA certificate (self-signed; CA:true, pathlen:0,
                   keyCertSign + cRLSign) - give it to verityd as --client-ca
                   and to clients as their trust anchor
  DIR/ca-key.pem   its ECDSA P-256 private key, mode 0600

Arguments:
  DIR         where to write; existing ca.pem / ca-key.pem are never overwritten
  NAME        the CA's common name, 1-64 of A-Z a-z 0-9 space . _ -
              (default: "Verity Test CA")
  --days N    validity in days, 1-7300 (default: 1825, five years)
  -h, --help  this text

Then issue certificates from it with issue-role-cert.sh (clients) or with
openssl and openssl/server.cnf (the server), as certs/README.md shows.

Exit status: 0 done, 1 openssl or file system failure, 2 bad usage.
EOF
}

die_usage() { printf '%s: %s\n' "$prog" "$1" >&2; printf "Try '%s --help'.\n" "$prog" >&2; exit 2; }
die() { printf '%s: %s\n' "$prog" "$1" >&2; exit 1; }

days=1825
positional=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --days)
            [[ $# -ge 2 ]] || die_usage "--days needs a value"
            days=$2; shift 2 ;;
        --days=*) days=${1#--days=}; shift ;;
        --) shift; positional+=("$@"); break ;;
        -*) die_usage "unknown option: $1" ;;
        *) positional+=("$1"); shift ;;
    esac
done

[[ ${#positional[@]} -ge 1 ]] || die_usage "missing DIR"
[[ ${#positional[@]} -le 2 ]] || die_usage "too many arguments (quote a NAME with spaces)"
dir=${positional[0]}
name=${positional[1]:-Verity Test CA}

[[ -n $dir ]] || die_usage "DIR must not be empty"
[[ $name =~ ^[A-Za-z0-9._\ -]{1,64}$ ]] \
    || die_usage "invalid NAME '$name': use 1-64 characters of A-Z a-z 0-9 space . _ -"
[[ $days =~ ^[0-9]{1,5}$ ]] && (( 10#$days >= 1 && 10#$days <= 7300 )) \
    || die_usage "invalid --days '$days': use a whole number from 1 to 7300"
days=$((10#$days))

command -v openssl >/dev/null 2>&1 || die "openssl not found in PATH"
[[ -r $ca_cnf ]] || die "missing OpenSSL profile $ca_cnf"

if [[ ! -d $dir ]]; then
    (umask 077 && mkdir -p -- "$dir") || die "cannot create directory $dir"
fi
for f in ca.pem ca-key.pem; do
    [[ ! -e $dir/$f ]] || die_usage "$dir/$f already exists; refusing to overwrite it"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/verity-ca.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

(
    umask 077
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -pkeyopt ec_param_enc:named_curve -out "$work/ca-key.pem"
) || die "key generation failed"
chmod 600 "$work/ca-key.pem"

openssl req -new -x509 -config "$ca_cnf" -extensions ca_ext -key "$work/ca-key.pem" \
    -days "$days" -sha256 -set_serial "0x$(openssl rand -hex 16)" \
    -subj "/O=Verity Test PKI/CN=$name" -out "$work/ca.pem" \
    || die "CA certificate creation failed"
openssl verify -CAfile "$work/ca.pem" "$work/ca.pem" >/dev/null \
    || die "the new CA certificate does not verify against itself"

# Move into place only now, so that a failure leaves nothing half-made behind.
mv -- "$work/ca-key.pem" "$dir/ca-key.pem"
mv -- "$work/ca.pem" "$dir/ca.pem"
chmod 644 "$dir/ca.pem"

printf 'Made test CA: %s\n' "$(openssl x509 -in "$dir/ca.pem" -noout -subject -nameopt RFC2253)"
printf '  valid until %s\n' "$(openssl x509 -in "$dir/ca.pem" -noout -enddate | cut -d= -f2)"
printf '  certificate: %s\n' "$dir/ca.pem"
printf '  key (0600):  %s\n' "$dir/ca-key.pem"
printf 'Not for production.\n'
