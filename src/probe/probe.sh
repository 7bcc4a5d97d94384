#!/bin/sh
# fleetstat Unix probe: reads one input line (docs/envelope.md) on stdin, collects report schema v1
# (src/probe/report.ts) and prints it sealed as one FLEETSTAT1 envelope line. Run as `sh probe.sh`.
# Secrets stay in unexported shell variables and reach openssl only through pipes written by the
# printf builtin: never argv, environment or files.
# Test hooks, never set by the server: FLEETSTAT_PROC_ROOT (/proc), FLEETSTAT_ETC_ROOT (/etc),
# FLEETSTAT_LOG_ROOT (/var/log), FLEETSTAT_DF_TIMEOUT (5 seconds).
# cpu-ms=0 skips the sampling sleep: cpu.percent is then the average since boot (with a warning).
# Unix events: sshd auth failures from auth.log/secure (+ .1) or, as root, the journal.
# record_id = unix_seconds*1000 + n, n counting matched lines within that second (stable while
# logs are append-only). Later runs get the oldest event-cap events newer than last-record-id; a
# first run (0) gets the newest event-cap.
# shellcheck disable=SC2016,SC2015 # awk programs are single-quoted on purpose; `a && b || die` is meant
LC_ALL=C
export LC_ALL
umask 077
set -f
P=${FLEETSTAT_PROC_ROOT:-/proc}
E=${FLEETSTAT_ETC_ROOT:-/etc}
L=${FLEETSTAT_LOG_ROOT:-/var/log}
W=

die() { printf 'fleetstat probe: %s\n' "$2" >&2; exit "$1"; }
# $1 is probe-authored text without quotes or backslashes.
warn() { W="$W${W:+,}\"$1\""; }
hexok() { case $1 in *[!0-9a-f]*|'') return 1;; esac; [ ${#1} -eq "$2" ]; }
numok() { case $1 in *[!0-9]*|''|0?*) return 1;; esac; [ ${#1} -le "$2" ]; }
have() { command -v "$1" >/dev/null 2>&1; }
# Runs "$2..." limited to $1 seconds where timeout exists.
bounded() { if have timeout; then timeout "$@"; else shift; "$@"; fi; }

# Shared awk functions: JSON strings (escaped, byte-capped, valid UTF-8), epoch <-> ISO 8601.
A='function js(s,m,  i,c,o){if(!(0 in O))for(i=0;i<128;i++)O[sprintf("%c",i)]=i
if(m&&length(s)>m){s=substr(s,1,m);sub(/[\300-\377][\200-\277]*$/,"",s)}
if(s~/[\200-\377]/&&s!~/^([\001-\177]|[\302-\337][\200-\277]|\340[\240-\277][\200-\277]|[\341-\354\356\357][\200-\277][\200-\277]|\355[\200-\237][\200-\277]|\360[\220-\277][\200-\277][\200-\277]|[\361-\363][\200-\277][\200-\277][\200-\277]|\364[\200-\217][\200-\277][\200-\277])*$/)gsub(/[\200-\377]/,"?",s)
gsub(/\\/,"\\\\",s);gsub(/"/,"\\\"",s)
if(s~/[\001-\037\177]/){o="";for(i=1;i<=length(s);i++){c=substr(s,i,1);if(c~/[\001-\037\177]/)c=sprintf("\\u%04x",O[c]);o=o c};s=o}
return "\"" s "\""}
function iso(t,  d,s,z,e,a,y,p,m){t=int(t);d=int(t/86400);s=t-d*86400;z=d+719468;e=int(z/146097);a=z-e*146097
y=int((a-int(a/1460)+int(a/36524)-int(a/146096))/365);d=a-(365*y+int(y/4)-int(y/100));p=int((5*d+2)/153)
m=p<10?p+3:p-9;y+=e*400+(m<=2)
return sprintf("%04d-%02d-%02dT%02d:%02d:%02dZ",y,m,d-int((153*p+2)/5)+1,int(s/3600),int(s%3600/60),s%60)}
# u: mount-table octal escapes (\040) decoded
function u(s,  o,i){o="";while(i=index(s,"\\")){o=o substr(s,1,i-1) sprintf("%c",substr(s,i+1,1)*64+substr(s,i+2,1)*8+substr(s,i+3,1));s=substr(s,i+4)}return o s}
function ep(y,m,d,H,M,S,  e,a){m+=0;y-=(m<=2);e=int(y/400);a=y-e*400
return (e*146097+a*365+int(a/4)-int(a/100)+int((153*(m>2?m-3:m+9)+2)/5)+d-1-719468)*86400+H*3600+M*60+S}
'

cpu_sample() {
  if [ -r "$P/stat" ]; then awk '/^cpu /{t=0;for(i=2;i<=9&&i<=NF;i++)t+=$i;print t,$5+$6;exit}' "$P/stat"
  elif have sysctl; then sysctl -n kern.cp_time 2>/dev/null | awk 'NF>=5{print $1+$2+$3+$4+$5,$5}'; fi
}

stat_cpu() {
  c1=$(cpu_sample)
  if [ "$cms" -gt 0 ]; then
    sleep "$((cms / 1000)).$(printf %03d $((cms % 1000)))" 2>/dev/null || sleep $(((cms + 999) / 1000))
    c2=$(cpu_sample)
  else
    c2=$c1 c1="0 0"
    warn "cpu.percent is the average since boot (cpu-ms=0)"
  fi
  [ -n "$c2" ] || warn "cpu counters unreadable"
  if [ -r "$P/stat" ]; then cores=$(awk '/^cpu[0-9]/{n++}END{print n+0}' "$P/stat")
  else cores=$(sysctl -n hw.ncpu 2>/dev/null); fi
  numok "$cores" 6 && [ "$cores" -gt 0 ] || { cores=1; warn "cpu core count unknown"; }
  ld=$(cat "$P/loadavg" 2>/dev/null || sysctl -n vm.loadavg 2>/dev/null)
  J_cpu=$(printf '%s %s|%s' "$c1" "$c2" "$ld" | awk -F'|' -v c="$cores" -v ms="$cms" '{
    split($1,a," ");t=a[3]-a[1];i=a[4]-a[2];p=t>0?100*(t-i)/t:0;p=p<0?0:p>100?100:p
    gsub(/[{}]/,"",$2);n=split($2,l," ");for(k=1;k<=3;k++)l[k]=(k<=n&&l[k]~/^[0-9.]+$/)?l[k]+0:"null"
    printf "{\"percent\":%.1f,\"cores\":%d,\"interval_ms\":%d,\"load1\":%s,\"load5\":%s,\"load15\":%s}",p,c,ms,l[1],l[2],l[3]}')
}

# Prints "memory-json swap-json" (kB figures in, bytes out; used = total - available).
stat_memory() {
  if [ -r "$P/meminfo" ]; then
    out=$(awk '{v[$1]=$2}END{t=v["MemTotal:"];a=("MemAvailable:" in v)?v["MemAvailable:"]:v["MemFree:"]+v["Buffers:"]+v["Cached:"]
      if(!("MemAvailable:" in v))print "old"
      print t,(a>t?t:a),v["SwapTotal:"],v["SwapFree:"]}' "$P/meminfo")
    case $out in old*) warn "no MemAvailable: estimated from MemFree+Buffers+Cached";; esac
    out=${out#old?}
  elif have sysctl; then
    t=$(sysctl -n hw.physmem 2>/dev/null || sysctl -n hw.memsize 2>/dev/null)
    if have vm_stat; then a=$(vm_stat | awk '/page size of/{s=$8}/Pages (free|inactive|speculative)/{gsub(/\./,"",$NF);n+=$NF}END{print n*s}')
    else a=$(sysctl -n vm.stats.vm.v_free_count vm.stats.vm.v_inactive_count hw.pagesize 2>/dev/null | awk '{v[NR]=$1}END{print (v[1]+v[2])*v[3]}'); fi
    out="$((t / 1024)) $((a / 1024)) 0 0"
    warn "swap not collected on this OS"
  else out="0 0 0 0"; warn "memory counters unreadable"; fi
  # shellcheck disable=SC2086 # split the numbers (globbing is off)
  set -- $out
  J_mem=$(awk -v t="$1" -v a="$2" 'BEGIN{if(a>t)a=t;u=t-a;printf "{\"total_bytes\":%.0f,\"used_bytes\":%.0f,\"available_bytes\":%.0f,\"percent\":%.1f}",t*1024,u*1024,a*1024,(t>0?100*u/t:0)}')
  J_swap=$(awk -v t="${3:-0}" -v f="${4:-0}" 'BEGIN{u=t-f;u=u<0?0:u;printf "{\"total_bytes\":%.0f,\"used_bytes\":%.0f,\"percent\":%.1f}",t*1024,u*1024,(t>0?100*u/t:0)}')
}

stat_uptime() {
  now=$(date -u +%s 2>/dev/null)
  if [ -r "$P/uptime" ]; then read -r up _ <"$P/uptime"; up=${up%%.*}
    bt=$(awk '/^btime /{print $2}' "$P/stat" 2>/dev/null)
  else bt=$(sysctl -n kern.boottime 2>/dev/null | awk -F'[=,]' '{print $2+0}'); up=$((now - bt)); fi
  numok "$up" 12 || { up=0; warn "uptime unreadable"; }
  numok "$bt" 12 || bt=$((now - up))
  boot=$(awk "$A"'BEGIN{print iso(ARGV[1])}' "$bt")
}

stat_host() {
  hn=$(cat "$P/sys/kernel/hostname" 2>/dev/null || uname -n)
  kr=$(cat "$P/sys/kernel/osrelease" 2>/dev/null || uname -r)
  f=$E/os-release
  [ -r "$f" ] || [ -n "$FLEETSTAT_ETC_ROOT" ] || f=/usr/lib/os-release
  pn=$(awk -F= '$1=="PRETTY_NAME"{v=substr($0,13);if(v~/^".*"$/){v=substr(v,2,length(v)-2);gsub(/\\\\/,"\001",v);gsub(/\\/,"",v);gsub(/\001/,"\\",v)}else if(v~/^\047.*\047$/)v=substr(v,2,length(v)-2);print v}' "$f" 2>/dev/null)
  [ -n "$pn" ] || ! have sw_vers || pn="$(sw_vers -productName) $(sw_vers -productVersion)"
  [ -n "$pn" ] || pn="$(uname -s) $(uname -r)"
  J_host=$(printf '%s\n' "$hn" "$kr" "$pn" "$(uname -s)" "$(uname -m)" | awk "$A"'{v[NR]=$0}END{
    printf "{\"hostname\":%s,\"os\":%s,\"os_name\":%s,\"kernel\":%s,\"arch\":%s}",js(v[1],255),js(tolower(v[4]),64),js(v[3],256),js(v[2],256),js(v[5],32)}')
}

stat_processes() {
  np=0
  if [ -r "$P/stat" ]; then
    set +f; for d in "$P"/[0-9]*; do [ -e "$d" ] && np=$((np + 1)); done; set -f
  else np=$(ps -ax -o pid= 2>/dev/null | awk 'END{print NR}'); fi
}

# df only ever sees local, real filesystems picked from the mount table, so a hung network mount
# is never stat'ed; df itself is still bounded by timeout.
stat_disks() {
  J_disks="" to=${FLEETSTAT_DF_TIMEOUT:-5}
  if [ -r "$P/mounts" ]; then
    list=$(awk "$A"'
      $3~/^(proc|sysfs|devtmpfs|devpts|tmpfs|ramfs|cgroup2?|pstore|bpf|debugfs|tracefs|securityfs|configfs|fusectl|mqueue|hugetlbfs|autofs|binfmt_misc|rpc_pipefs|nsfs|efivarfs|selinuxfs|squashfs|iso9660|nfs4?|cifs|smb3|smbfs|ncpfs|afs|ceph|glusterfs|9p|lustre|gpfs|fuse|fuse\..*|aufs|none)$/{next}
      $3=="overlay"&&$2!="/"{next} {m=u($2)} m!~/\n/&&!s[$1]++{print m}' "$P/mounts")
    [ -n "$list" ] || return 0
    o=$IFS IFS='
'
    # shellcheck disable=SC2086 # one mount point per line (globbing is off)
    set -- -- $list
    IFS=$o mf=$P/mounts
  else set -- -l; mf=/dev/null; fi
  out=$(bounded "$to" df -P -k "$@" 2>/dev/null); rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -gt 128 ]; then warn "df timed out after ${to}s (a hung mount?): disks missing"; return 0; fi
  [ "$rc" -eq 0 ] || warn "df reported errors for some filesystems"
  J_disks=$(printf '%s\n' "$out" | awk "$A"'
    FILENAME==ARGV[1]{t[u($2)]=$3;next} FNR==1||n>=512{next}
    {m=$0;if(!sub(/^[^ ]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+% +/,"",m)||$2==0)next;if(!(m in t)&&$1!~/^\//)next
    n++;printf "%s{\"mount\":%s,\"fs\":%s,\"device\":%s,\"size_bytes\":%.0f,\"used_bytes\":%.0f,\"avail_bytes\":%.0f,\"used_percent\":%.1f}",(n>1?",":""),js(m,512),js(t[m],64),js($1,512),$2*1024,$3*1024,$4*1024,($3+$4>0?100*$3/($3+$4):0)}' "$mf" - 2>/dev/null)
}

stat_nics() {
  if [ -r "$P/net/dev" ]; then
    J_nics=$(awk "$A"'NR>2&&n<512{i=index($0,":");if(!i)next;nm=substr($0,1,i-1);gsub(/ /,"",nm);$0=substr($0,i+1)
      n++;printf "%s{\"name\":%s,\"rx_bytes\":%.0f,\"tx_bytes\":%.0f,\"rx_packets\":%.0f,\"tx_packets\":%.0f,\"rx_errors\":%.0f,\"tx_errors\":%.0f}",(n>1?",":""),js(nm,64),$1,$9,$2,$10,$3,$11}' "$P/net/dev")
  else J_nics= ; warn "network counters not collected on this OS"; fi
}

# GNU who: "name tty 2024-01-02 03:04 (from)"; busybox who has a header and an idle column.
stat_users() {
  have who || { J_users=; warn "who not found: users missing"; return 0; }
  tz=$(date +%z 2>/dev/null)
  J_users=$(who 2>/dev/null | awk -v tz="$tz" "$A"'
    $1=="USER"&&$2=="TTY"{bb=1;next} NF<3||n>=1024{next}
    {f="";if(bb){w=$4" "$5" "$6;f=$7}else{if($NF~/^\(.*\)$/){f=substr($NF,2,length($NF)-2);NF--};w=$3;for(i=4;i<=NF;i++)w=w" "$i}
    if(w~/^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]$/&&tz~/^[-+][0-9][0-9][0-9][0-9]$/){sub(/ /,"T",w);w=w substr(tz,1,3)":"substr(tz,4)}
    n++;printf "%s{\"name\":%s,\"tty\":%s,\"from\":%s,\"login_at\":%s}",(n>1?",":""),js($1,64),js($2,64),js(f,256),js(w,40)}')
}

# awk reading auth lines on stdin: prints the item list, then "truncated" on a line of its own.
EV='BEGIN{Z=(substr(tz,1,1)=="-"?-1:1)*(substr(tz,2,2)*3600+substr(tz,4,2)*60);split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",x," ");for(i=1;i<=12;i++)mo[x[i]]=i}
/sshd(-session)?\[[0-9]+\]: /&&/Failed [a-z\/-]+ for |Invalid user |authentication failure;|maximum authentication attempts/{
  if($1~/^[0-9]+(\.[0-9]+)?$/){t=int($1);k=3}
  else if($1~/^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:.]+([-+][0-9][0-9]:?[0-9][0-9]|Z)$/){s=$1;t=ep(substr(s,1,4),substr(s,6,2),substr(s,9,2),substr(s,12,2),substr(s,15,2),substr(s,18,2))
    if(match(s,/[-+][0-9][0-9]:?[0-9][0-9]$/)){z=substr(s,RSTART);gsub(/:/,"",z);o=(substr(z,2,2)*3600+substr(z,4,2)*60);t-=(substr(z,1,1)=="-"?-o:o)};k=3}
  else if($1 in mo){y=Y-(mo[$1]>M);split($3,h,":");t=ep(y,mo[$1],$2,h[1],h[2],h[3])-Z;k=5}else next
  id=t*1000+(c[t]<999?c[t]:999);c[t]++;if(id<=last)next
  m=$0;for(i=0;i<k;i++)sub(/^[^ ]+ +/,"",m)
  e=m~/^Failed/?1:m~/^Invalid user/?2:m~/authentication failure/?3:4
  n++;it[n]=sprintf("{\"record_id\":%.0f,\"event_id\":%d,\"level\":\"warning\",\"provider\":\"sshd\",\"logged_at\":\"%s\",\"message\":%s}",id,e,iso(t),js(m,500))}
END{a=1;if(n>cap)a=last?1:n-cap+1;for(i=a;i<=n&&i<a+cap;i++)printf "%s%s",(i>a?",":""),it[i];print "";print (n>cap)?"true":"false"}'

stat_events() {
  ev_read=true ev_note="" src="" out=""
  for f in "$L/auth.log" "$L/secure"; do [ -r "$f" ] && [ -f "$f" ] && src=$f && break; done
  if [ -z "$src" ] && [ "$(id -u 2>/dev/null)" = 0 ] && have journalctl && { [ -d "$L/journal" ] || [ -d /run/log/journal ]; }; then src=journal; fi
  if [ -z "$src" ]; then
    ev_read=false ev_note="no readable sshd log: needs root (sudo) and auth.log, secure or the journal"
  elif [ "$cap" -eq 0 ]; then ev_note="event-cap is 0"; out="
false"
  else
    ev_note="source: $src"
    if [ "$src" = journal ]; then
      s=; [ "$last" -gt 0 ] && s="--since=@$((last / 1000))"
      lines=$(bounded 10 journalctl -q --no-pager -o short-unix -t sshd -t sshd-session -n 100000 ${s:+"$s"} 2>/dev/null)
    else lines=$( { [ -f "$src.1" ] && cat "$src.1"; cat "$src"; } 2>/dev/null | tail -n 100000); fi
    out=$(printf '%s\n' "$lines" | awk -v cap="$cap" -v last="$last" -v Y="$(date +%Y)" -v M="$(date +%m)" \
      -v tz="$(date +%z)" "$A$EV")
  fi
  [ -n "$out" ] || out="
false"
  J_events="{\"readable\":$ev_read,\"truncated\":${out##*
},\"note\":\"$ev_note\",\"items\":[${out%
*}]}"
}

# printf format of octal escapes for the bytes of hex string $1, each XORed with $2.
octal() {
  h=$1 fmt=
  while [ -n "$h" ]; do
    r=${h#??} x=$((0x${h%"$r"} ^ $2)) h=$r
    fmt="$fmt\\$((x >> 6 & 7))$((x >> 3 & 7))$((x & 7))"
  done
}

# HMAC-SHA256 of $1 with the key in $mkey: H((K^opad) || H((K^ipad) || m)), key bytes via printf.
# shellcheck disable=SC2059 # the formats are octal escapes built above: no % in them
hmac() {
  octal "${mkey}0000000000000000000000000000000000000000000000000000000000000000" 54; ki=$fmt
  octal "${mkey}0000000000000000000000000000000000000000000000000000000000000000" 92; ko=$fmt
  ih=$( { printf "$ki"; printf '%s' "$1"; } | openssl dgst -sha256) || return 1
  ih=${ih##* }; hexok "$ih" 64 || return 1
  octal "$ih" 0
  mac=$( { printf "$ko"; printf "$fmt"; } | openssl dgst -sha256) || return 1
  mac=${mac##* }; hexok "$mac" 64
}

IFS=' ' read -r v rid pass mkey cms cap last extra || [ -n "$v" ] || die 64 "no input line on stdin"
[ "$v" = FLEETSTAT1 ] && hexok "$rid" 32 && hexok "$pass" 64 && hexok "$mkey" 64 && numok "$cms" 5 \
  && numok "$cap" 4 && numok "$last" 16 && [ -z "$extra" ] && [ "$cms" -le 60000 ] && [ "$cap" -le 5000 ] \
  || die 64 "malformed input line (expected: FLEETSTAT1 run-id enc-pass mac-key cpu-ms event-cap last-record-id)"
exec </dev/null
for t in openssl awk; do have "$t" || die 69 "required tool $t not found in PATH"; done

stat_cpu; stat_memory; stat_uptime; stat_host; stat_processes; stat_disks; stat_nics; stat_users; stat_events
report="{\"schema\":1,\"probe\":\"sh\",\"collected_at\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"host\":$J_host,\"cpu\":$J_cpu,\
\"memory\":$J_mem,\"swap\":$J_swap,\"uptime_seconds\":$up,\"boot_time\":\"$boot\",\"process_count\":${np:-0},\
\"disks\":[$J_disks],\"nics\":[$J_nics],\"users\":[$J_users],\"events\":$J_events,\"warnings\":[$W]}"

ct=$(printf '%s\n' "$pass" | { exec 3<&0; printf '%s' "$report" | openssl enc -aes-256-cbc -pbkdf2 -md sha256 \
  -iter 1000 -salt -pass fd:3 -base64 -A; }) && [ -n "$ct" ] || die 70 "encryption failed (openssl enc)"
hmac "FLEETSTAT1 $rid $ct" || die 70 "MAC computation failed (openssl dgst)"
printf 'FLEETSTAT1 %s %s %s\n' "$rid" "$ct" "$mac"
