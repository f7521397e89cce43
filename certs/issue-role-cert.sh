#!/usr/bin/env bash
# Verity: issue a role client certificate (OU=ROLE, CN=NAME, clientAuth) from an agency's
# own CA with the openssl command. See certs/README.md.
set -euo pipefail
export LC_ALL=C

prog=$(basename "$0")
script_dir=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}" 2>/dev/null || printf %s "${BASH_SOURCE[0]}")")" && pwd)
client_cnf="$script_dir/openssl/client.cnf"
roles=(verifier ivr agent notifier admin)

usage() {
    cat <<EOF
Usage: $prog --ca-cert CA.pem --ca-key CA-key.pem --role ROLE --name CN
       [--days N] [--out-dir DIR] [--rsa] [--org ORG] [--ca-passin ARG]
       [--ca-bundle FILE] [--force]

Issues a client certificate for one calling system of Verity:
subject OU=ROLE, CN=NAME; extendedKeyUsage clientAuth; keyUsage digitalSignature.

Required:
  --ca-cert FILE    the issuing CA certificate (PEM)
  --ca-key FILE     the issuing CA private key (PEM)
  --role ROLE       one of: ${roles[*]}
  --name CN         the calling system, 1-64 characters of A-Z a-z 0-9 . _ -

Optional:
  --days N          validity in days, 1-825 (default: 365)
  --out-dir DIR     where to write (default: the current directory; created with
                    mode 0700 if missing)
  --rsa             an RSA 3072 key instead of ECDSA P-256 (the default)
  --org ORG         also put O=ORG in the subject (1-64 of A-Z a-z 0-9 space . , _ ' ( ) & -)
  --ca-passin ARG   pass phrase source for an encrypted CA key, as openssl -passin
                    takes it (e.g. env:CA_PASS or file:/path); without it openssl asks
  --ca-bundle FILE  the CA bundle verityd trusts (its --client-ca), to verify the result
                    against (default: the --ca-cert file)
  --force           overwrite existing output files
  -h, --help        this text

Writes, in DIR:
  ROLE-NAME.pem       the certificate (give to the calling system with its key)
  ROLE-NAME-key.pem   its private key, mode 0600 (never leaves that system)
The certificate is checked with 'openssl verify -CAfile' before anything is written.

Example:
  $prog --ca-cert ca.pem --ca-key ca-key.pem --role agent --name case-system --out-dir out
  -> out/agent-case-system.pem, out/agent-case-system-key.pem

Exit status: 0 issued, 1 openssl or file system failure, 2 bad usage or input.
EOF
}

die_usage() { printf '%s: %s\n' "$prog" "$1" >&2; printf "Try '%s --help'.\n" "$prog" >&2; exit 2; }
die() { printf '%s: %s\n' "$prog" "$1" >&2; exit 1; }

ca_cert='' ca_key='' role='' name='' days=365 out_dir=. rsa=0 org='' ca_passin='' ca_bundle='' force=0
have_role=0 have_name=0

needs_value() { [[ $2 -ge 2 ]] || die_usage "$1 needs a value"; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --ca-cert)   needs_value "$1" $#; ca_cert=$2; shift 2 ;;
        --ca-key)    needs_value "$1" $#; ca_key=$2; shift 2 ;;
        --role)      needs_value "$1" $#; role=$2; have_role=1; shift 2 ;;
        --name)      needs_value "$1" $#; name=$2; have_name=1; shift 2 ;;
        --days)      needs_value "$1" $#; days=$2; shift 2 ;;
        --out-dir)   needs_value "$1" $#; out_dir=$2; shift 2 ;;
        --org)       needs_value "$1" $#; org=$2; shift 2 ;;
        --ca-passin) needs_value "$1" $#; ca_passin=$2; shift 2 ;;
        --ca-bundle) needs_value "$1" $#; ca_bundle=$2; shift 2 ;;
        --rsa)       rsa=1; shift ;;
        --force)     force=1; shift ;;
        --*=*)       opt=${1%%=*}; val=${1#*=}; shift; set -- "$opt" "$val" "$@" ;;
        *)           die_usage "unknown argument: $1" ;;
    esac
done

# ---- validate everything before touching anything ------------------------------------
[[ -n $ca_cert ]] || die_usage "missing --ca-cert"
[[ -n $ca_key ]] || die_usage "missing --ca-key"
[[ $have_role == 1 ]] || die_usage "missing --role (one of: ${roles[*]})"
[[ $have_name == 1 ]] || die_usage "missing --name"

role_ok=0
for r in "${roles[@]}"; do [[ $role == "$r" ]] && role_ok=1; done
[[ $role_ok == 1 ]] || die_usage "invalid role '$role': must be one of: ${roles[*]} (lower case)"

[[ $name =~ ^[A-Za-z0-9._-]{1,64}$ ]] \
    || die_usage "invalid name '$name': use 1-64 characters of A-Z a-z 0-9 . _ - (no spaces)"

[[ $days =~ ^[0-9]{1,4}$ ]] && (( 10#$days >= 1 && 10#$days <= 825 )) \
    || die_usage "invalid --days '$days': use a whole number from 1 to 825 (365 recommended)"
days=$((10#$days))

if [[ -n $org ]]; then
    [[ $org =~ ^[A-Za-z0-9\ .,_\'\(\)\&-]{1,64}$ ]] \
        || die_usage "invalid --org '$org': use 1-64 characters of A-Z a-z 0-9 space . , _ ' ( ) & -"
fi

[[ -f $ca_cert && -r $ca_cert ]] || die_usage "cannot read CA certificate '$ca_cert'"
[[ -f $ca_key && -r $ca_key ]] || die_usage "cannot read CA key '$ca_key'"
[[ -z $ca_bundle ]] && ca_bundle=$ca_cert
[[ -f $ca_bundle && -r $ca_bundle ]] || die_usage "cannot read CA bundle '$ca_bundle'"
[[ -n $out_dir ]] || die_usage "--out-dir must not be empty"
[[ ! -e $out_dir || -d $out_dir ]] || die_usage "--out-dir '$out_dir' exists and is not a directory"

command -v openssl >/dev/null 2>&1 || die "openssl not found in PATH"
[[ -r $client_cnf ]] || die "missing OpenSSL profile $client_cnf"

passin=()
[[ -n $ca_passin ]] && passin=(-passin "$ca_passin")

# The CA certificate must parse, be a CA, and match the key.
openssl x509 -in "$ca_cert" -noout 2>/dev/null \
    || die_usage "'$ca_cert' is not a PEM certificate"
openssl x509 -in "$ca_cert" -noout -ext basicConstraints 2>/dev/null | grep -q 'CA:TRUE' \
    || die_usage "'$ca_cert' is not a CA certificate (basicConstraints CA:TRUE missing)"
if ku=$(openssl x509 -in "$ca_cert" -noout -ext keyUsage 2>/dev/null) && [[ -n $ku ]]; then
    grep -q 'Certificate Sign' <<<"$ku" \
        || die_usage "'$ca_cert' may not sign certificates (keyUsage lacks keyCertSign)"
fi
ca_pub=$(openssl x509 -in "$ca_cert" -noout -pubkey) || die "cannot read the CA public key"
key_pub=$(openssl pkey -in "$ca_key" "${passin[@]}" -pubout 2>/dev/null) \
    || die_usage "cannot read CA key '$ca_key' (wrong pass phrase, or not a PEM private key?)"
[[ $ca_pub == "$key_pub" ]] || die_usage "CA key '$ca_key' does not belong to CA certificate '$ca_cert'"

if ! openssl x509 -in "$ca_cert" -noout -checkend $(( days * 86400 )) >/dev/null; then
    printf '%s: warning: the CA certificate expires within %d days, before this certificate would\n' "$prog" "$days" >&2
    printf '%s: warning: (verification fails once the CA has expired; renew the CA first)\n' "$prog" >&2
fi

base="$role-$name"
cert_out="$out_dir/$base.pem"
key_out="$out_dir/$base-key.pem"
if [[ $force == 0 ]]; then
    for f in "$cert_out" "$key_out"; do
        [[ ! -e $f ]] || die_usage "$f already exists; use --force to replace it"
    done
fi

# ---- issue ------------------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/verity-issue.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

(
    umask 077
    if [[ $rsa == 1 ]]; then
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$work/key.pem" 2>/dev/null
    else
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
            -pkeyopt ec_param_enc:named_curve -out "$work/key.pem"
    fi
) || die "key generation failed"
chmod 600 "$work/key.pem"

subject="/OU=$role/CN=$name"
[[ -n $org ]] && subject="/O=$org$subject"

openssl req -new -config "$client_cnf" -key "$work/key.pem" -subj "$subject" \
    -out "$work/req.csr" || die "certificate request failed"

# A random positive 128-bit serial: no serial file next to the CA is needed or written.
serial="0x$(openssl rand -hex 16)"
openssl x509 -req -in "$work/req.csr" -CA "$ca_cert" -CAkey "$ca_key" "${passin[@]}" \
    -set_serial "$serial" -days "$days" -sha256 \
    -extfile "$client_cnf" -extensions client_ext -out "$work/cert.pem" 2>"$work/x509.err" \
    || { cat "$work/x509.err" >&2; die "signing failed"; }

verify_opts=(-purpose sslclient -CAfile "$ca_bundle")
# An intermediate CA given alone as the bundle: accept a chain that ends at it.
if [[ $ca_bundle == "$ca_cert" ]] \
   && [[ $(openssl x509 -in "$ca_cert" -noout -subject -nameopt RFC2253) != \
         "$(openssl x509 -in "$ca_cert" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=/subject=/')" ]]; then
    verify_opts+=(-partial_chain)
    printf '%s: note: %s is an intermediate CA; verifying with -partial_chain. verityd'\''s\n' "$prog" "$ca_cert" >&2
    printf '%s: note: --client-ca bundle must hold this intermediate (and its root).\n' "$prog" >&2
fi
openssl verify "${verify_opts[@]}" "$work/cert.pem" >"$work/verify.out" 2>&1 \
    || { cat "$work/verify.out" >&2; die "the issued certificate does not verify against $ca_bundle"; }

# Check the result says what it should, not only that it chains.
got_subject=$(openssl x509 -in "$work/cert.pem" -noout -subject -nameopt RFC2253)
[[ $got_subject == *"OU=$role,"* || $got_subject == *"OU=$role" ]] \
    || die "issued certificate lacks OU=$role: $got_subject"
openssl x509 -in "$work/cert.pem" -noout -ext extendedKeyUsage | grep -q 'TLS Web Client Authentication' \
    || die "issued certificate lacks extendedKeyUsage clientAuth"

# ---- write --------------------------------------------------------------------------
if [[ ! -d $out_dir ]]; then
    (umask 077 && mkdir -p -- "$out_dir") || die "cannot create directory $out_dir"
fi
mv -f -- "$work/key.pem" "$key_out" || die "cannot write $key_out"
chmod 600 "$key_out"
mv -f -- "$work/cert.pem" "$cert_out" || die "cannot write $cert_out"
chmod 644 "$cert_out"

key_type=$([[ $rsa == 1 ]] && echo "RSA 3072" || echo "ECDSA P-256")
printf 'Issued %s certificate for %s\n' "$role" "$name"
printf '  subject:     %s\n' "${got_subject#subject=}"
printf '  issuer:      %s\n' "$(openssl x509 -in "$cert_out" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')"
printf '  serial:      %s\n' "$(openssl x509 -in "$cert_out" -noout -serial | cut -d= -f2)"
printf '  valid until: %s\n' "$(openssl x509 -in "$cert_out" -noout -enddate | cut -d= -f2)"
printf '  key type:    %s\n' "$key_type"
printf '  certificate: %s\n' "$cert_out"
printf '  key (0600):  %s\n' "$key_out"
