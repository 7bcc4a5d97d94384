#!/bin/sh
# fleetstat Unix probe (`sh probe.sh`): one input line (docs/envelope.md) on stdin, report schema
# v1 (src/probe/report.ts) out, sealed as one FLEETSTAT1 line. Secrets stay in unexported shell
# variables and reach openssl only through pipes the printf builtin writes (no builtin: exit 69).
# Needs: docs/targets.md. Test hooks, never set by the server: FLEETSTAT_PROC_ROOT (/proc),
# FLEETSTAT_ETC_ROOT (/etc), FLEETSTAT_LOG_ROOT (/var/log), FLEETSTAT_DF_TIMEOUT (5 s).
# cpu-ms=0: no sleep, cpu.percent since boot. Events: sshd auth failures from
# auth.log/secure/authlog/messages (+ .1) or, as root, the journal; record_id = unix_s*1000 + n-th
# match that second. First run: the newest event-cap events; later: the oldest above last-record-id.
# shellcheck disable=SC2016,SC2015 # awk programs are single-quoted on purpose; `a && b || die` is meant
LC_ALL=C
export LC_ALL
umask 077
set -f
P=${FLEETSTAT_PROC_ROOT:-/proc}
E=${FLEETSTAT_ETC_ROOT:-/etc}
L=${FLEETSTAT_LOG_ROOT:-/var/log}
NL='
'
# 64 zeros, the HMAC key's padding; built, so that the probe's text (in argv when it runs from
# memory) holds no 64-hex token, which the tests look for as a leaked secret.
Z=0000000000000000 Z=$Z$Z$Z$Z

die() { echo "fleetstat probe: $2" >&2; exit "$1"; }
# $1: our text, no quotes or backslashes.
warn() { W="$W${W:+,}\"$1\""; }
hexok() { case $1 in *[!0-9a-f]*|'') return 1;; esac; [ ${#1} -eq "$2" ]; }
numok() { case $1 in *[!0-9]*|''|0?*) return 1;; esac; [ ${#1} -le "$2" ]; }
have() { command -v "$1" >/dev/null 2>&1; }
# "$2..." limited to $1 s where timeout exists.
bounded() { if have timeout; then timeout "$@"; else shift; "$@"; fi; }

# awk functions shared by both programs below (names kept short where the statistics program
# calls them: js, iso, u).
A='# js: s as a JSON string, cut to max bytes (never inside a UTF-8 sequence). ASCII only: valid
# UTF-8 and control characters become \u escapes (pairs above U+FFFF), any other byte "?".
function js(s,max,  i,code,out,extra,v,k,byte){if(!(0 in ORD))for(i=0;i<256;i++)ORD[sprintf("%c",i)]=i
if(max&&length(s)>max){s=substr(s,1,max);sub(/[\300-\377][\200-\277]*$/,"",s)}
s=replace_all(replace_all(s,"\\\\","\\\\"),"\"","\\\"")
if(s~/[\001-\037\177-\377]/){out="";for(i=1;i<=length(s);i++){code=ORD[v=substr(s,i,1)];if(code<32||code>126){
# extra: the continuation bytes this lead byte announces (-1: no lead byte); v: the code point
extra=code<128?0:code<194?-1:code<224?1:code<240?2:code<245?3:-1
v=code%(extra<1?128:extra<2?64:extra<3?16:8);for(k=1;k<=extra;k++){byte=ORD[substr(s,i+k,1)];v=byte<128||byte>191?-1e9:v*64+byte%64}
# a bad sequence, an overlong form, a surrogate or past U+10FFFF: "?"
if(extra<0||v<(extra<2?0:extra<3?2048:65536)||v>55295&&v<57344||v>1114111)v="?"
else{i+=extra;v=v>65535?sprintf("\\u%04x\\u%04x",55232+int(v/1024),56320+v%1024):sprintf("\\u%04x",v)}};out=out v};s=out}
return "\"" s "\""}
# replace_all: s with every r replaced by t, literally (awks differ on backslashes in gsub)
function replace_all(s,r,t,  parts,n,i,out){n=split(s,parts,r);out=parts[1];for(i=2;i<=n;i++)out=out t parts[i];return out}
# iso: epoch seconds as ISO 8601 UTC (days to civil date, after H. Hinnant)
function iso(t,  days,secs,z,era,doe,year,mp,month){t=int(t);days=int(t/86400);secs=t-days*86400;z=days+719468;era=int(z/146097);doe=z-era*146097
year=int((doe-int(doe/1460)+int(doe/36524)-int(doe/146096))/365);days=doe-(365*year+int(year/4)-int(year/100));mp=int((5*days+2)/153)
month=mp<10?mp+3:mp-9;year+=era*400+(month<=2)
return sprintf("%04d-%02d-%02dT%02d:%02d:%02dZ",year,month,days-int((153*mp+2)/5)+1,int(secs/3600),int(secs%3600/60),secs%60)}
# u: a mount table name with its octal escapes (\040 for a space) decoded
function u(s,  out,i){out="";while(i=index(s,"\\")){out=out substr(s,1,i-1) sprintf("%c",substr(s,i+1,1)*64+substr(s,i+2,1)*8+substr(s,i+3,1));s=substr(s,i+4)}return out s}
# epoch: seconds since 1970 of a UTC date and time (civil date to days, after H. Hinnant)
function epoch(year,month,day,hour,min,sec,  era,yoe){month+=0;year-=(month<=2);era=int(year/400);yoe=year-era*400
return (era*146097+yoe*365+int(yoe/4)-int(yoe/100)+int((153*(month>2?month-3:month+9)+2)/5)+day-1-719468)*86400+hour*3600+min*60+sec}
'

# The statistics program. ARGV: values (no escape processing, none starts with "-"). Prints the
# report to boot_time, ":"nics, ":"warnings, ":"uid, then the mounts df may stat. Its helpers:
# ok(s,n): s is a decimal count of at most n digits; w(s): adds the warning s; rf(f): reads the
# file f into Q[1..N] (R: its first line), true when it was read; sp(s): "total idle" CPU ticks.
C='function ok(s,n){return s~/^(0|[1-9][0-9]*)$/&&length(s)<=n}
function w(s){WS=WS (WS==""?"":",") "\"" s "\""}
function rf(f,  g,l){N=0;Q[1]="";while((g=(getline l<f))>0)Q[++N]=l;close(f);R=Q[1];return N||!g}
# sp: "total idle" of a /proc/stat cpu line or of BSD kern.cp_time
function sp(s,  a,n,i,t){n=split(s,a," ");if(a[1]=="cpu")for(i=2;i<=9&&i<=n;i++)t+=a[i];else if(n<5)return"";else t=a[1]+a[2]+a[3]+a[4]+a[5];return sprintf("%.0f %.0f",t,a[5]+a[6])}
BEGIN{P=ARGV[1];ms=ARGV[4]+0;split(ARGV[5],x," ");now=x[1];nc=ARGV[9];ld=ARGV[10];mm=ARGV[11];ARGC=1
split(ARGV[6],un," ")
if(rf(P"/stat")){nc=0;for(j=1;j<=N;j++){l=Q[j];if(l~/^cpu /){if(L=="")L=l}else if(l~/^cpu[0-9]/)nc++;else if(l~/^btime /){split(l,x," ");bt=x[2]}}}
c1=sp(ARGV[2]);c2=sp(ARGV[3]);if(ms>0){if(c2=="")c2=sp(L)}else{c2=c1;c1="0 0"}
if(c2=="")w("cpu counters unreadable")
split(c1" "c2,cs," ");t=cs[3]-cs[1];i=cs[4]-cs[2];p=t>0?100*(t-i)/t:0;p=p<0?0:p>100?100:p
if(!ok(nc,6)||nc<1){nc=1;w("cpu core count unknown")}
if(rf(P"/loadavg"))ld=R;gsub(/[{}]/,"",ld);n=split(ld,la," ");for(k=1;k<=3;k++)la[k]=(k<=n&&la[k]~/^[0-9.]+$/)?la[k]+0:"null"
if(rf(P"/meminfo")){for(j=1;j<=N;j++){split(Q[j],x," ");v[x[1]]=x[2]}
t=v["MemTotal:"];if("MemAvailable:" in v)a=v["MemAvailable:"];else{a=v["MemFree:"]+v["Buffers:"]+v["Cached:"];w("no MemAvailable: estimated from MemFree+Buffers+Cached")}
st=v["SwapTotal:"];sf=v["SwapFree:"]}else if(mm!=""){split(mm,x," ");t=int(x[1]/1024);a=int(x[2]/1024);st=sf=0;w("swap not collected on this OS")}
else{t=a=st=sf=0;w("memory counters unreadable")}
if(a>t)a=t;u1=t-a;u2=st-sf;u2=u2<0?0:u2
if(rf(P"/uptime")){split(R,x," ");up=x[1];sub(/\..*/,"",up)}else{split(ARGV[12],x,/[=,]/);bt=x[2]+0;up=x[2]==""?"":now-bt}
if(!ok(up,12)){up=0;w("uptime unreadable")};if(!ok(bt,12))bt=now-up
k=P"/sys/kernel/";hn=rf(k"hostname")?R:un[2];kr=rf(k"osrelease")?R:un[3]
rf(ARGV[7]);for(j=1;j<=N;j++)if(match(Q[j],/^(PRETTY_NAME|DISTRIB_DESCRIPTION)=/)){pv=substr(Q[j],RLENGTH+1);if(pv~/^".*"$/){pv=substr(pv,2,length(pv)-2);n=split(pv,x,"\\\\\\\\");pv="";for(i=1;i<=n;i++){gsub(/\\/,"",x[i]);pv=pv (i>1?"\\":"") x[i]}}else if(pv~/^\047.*\047$/)pv=substr(pv,2,length(pv)-2);pn=pv}
if(pn==""&&ARGV[7]!~/(os|lsb)-release$/)pn=R;if(pn=="")pn=ARGV[8]!=""?ARGV[8]:un[1]" "un[3]
rf(P"/net/dev");for(j=3;j<=N;j++)if((i=index(l=Q[j],":"))&&nn++<512){nm=substr(l,1,i-1);gsub(/ /,"",nm);split(substr(l,i+1),x," ")
NI=NI (nn>1?",":"") sprintf("{\"name\":%s,\"rx_bytes\":%.0f,\"tx_bytes\":%.0f,\"rx_packets\":%.0f,\"tx_packets\":%.0f,\"rx_errors\":%.0f,\"tx_errors\":%.0f}",js(nm,64),x[1],x[9],x[2],x[10],x[3],x[11])}
rf("/proc/self/status");for(j=1;j<=N;j++)if(Q[j]~/^Uid:/){split(Q[j],x," ");id=x[3]}
rf(P"/mounts");for(j=1;j<=N;j++){split(Q[j],x," ")
if(x[3]~/^(proc|sysfs|devtmpfs|devpts|tmpfs|ramfs|cgroup2?|pstore|bpf|debugfs|tracefs|securityfs|rootfs|configfs|fusectl|mqueue|hugetlbfs|autofs|binfmt_misc|rpc_pipefs|nsfs|efivarfs|selinuxfs|squashfs|iso9660|nfs4?|cifs|smb3|smbfs|ncpfs|afs|ceph|glusterfs|9p|lustre|gpfs|fuse|fuse\..*|aufs|none)$/||x[3]=="overlay"&&x[2]!="/")continue
m=u(x[2]);if(m~/[\200-\377]/&&ARGV[13]){if(!y++)w("mount points with non-ASCII bytes skipped (yash)")}else if(m~/\n/)w("a mount point with a newline skipped");else if(!D[x[1]]++&&!M[m]++)MS=MS"\n"m}
printf "{\"schema\":1,\"probe\":\"sh\",\"collected_at\":\"%s\",\"host\":{\"hostname\":%s,\"os\":%s,\"os_name\":%s,\"kernel\":%s,\"arch\":%s}",(now~/^[0-9]+$/?iso(now):""),js(hn,255),js(tolower(un[1]),64),js(pn,256),js(kr,256),js(un[4],32)
printf ",\"cpu\":{\"percent\":%.1f,\"cores\":%d,\"interval_ms\":%d,\"counters\":%s,\"load1\":%s,\"load5\":%s,\"load15\":%s}",p,nc,ms,(c2?"{\"total\":"cs[3]",\"idle\":"cs[4]"}":"null"),la[1],la[2],la[3]
printf ",\"memory\":{\"total_bytes\":%.0f,\"used_bytes\":%.0f,\"available_bytes\":%.0f,\"percent\":%.1f}",t*1024,u1*1024,a*1024,(t>0?100*u1/t:0)
printf ",\"swap\":{\"total_bytes\":%.0f,\"used_bytes\":%.0f,\"percent\":%.1f},\"uptime_seconds\":%s,\"boot_time\":\"%s\"\n:%s\n:%s\n:%s%s\n",st*1024,u2*1024,(st>0?100*u2/st:0),up,iso(bt),NI,WS,id,MS
}'

# The lists program. stdin: df output, run id, who[, run id, journal]; ARGV: the mount table,
# "now tz", event-cap, last-record-id, the run id (separates the sections), the log files.
# Prints ":"disks, ":"users, ":"events, ":"truncated.
R='# keep_line: a ring of the last 100000 log lines, as tail -n keeps them
function keep_line(line){ring[++lines%100000]=line}
BEGIN{mount_file=ARGV[1];split(ARGV[2],x," ");now=x[1]+0;tz=x[2];event_cap=ARGV[3]+0;last_id=ARGV[4]+0;separator=ARGV[5]
for(i=6;i<ARGC;i++)log_file[++log_files]=ARGV[i];ARGC=1
# fstype by mount point; df prints control characters as "?": map such names back
while((getline line<mount_file)>0){split(line,x," ");fstype[name=u(x[2])]=x[3];if(gsub(/[\001-\037\177]/,"?",name))unescaped[name]=u(x[2])};close(mount_file)
tz_seconds=(substr(tz,1,1)=="-"?-1:1)*(substr(tz,2,2)*3600+substr(tz,4,2)*60)
split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",x," ");for(i=1;i<=12;i++)month_of[x[i]]=i
# a date without a year (who, syslog) lies in the last 12 months of local time
local_now=iso(now+tz_seconds);this_year=substr(local_now,1,4)+0;this_month=substr(local_now,6,2)+0}
$0==separator{section++;next}
# df -P -k: a header, then device, size, used, available, capacity and mount point
section==0{if(++df_line==1||disk_count>=512)next;mount=$0;if(!sub(/^[^ ]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+% +/,"",mount)||$2==0)next
if(!(mount in fstype)&&(mount in unescaped))mount=unescaped[mount];if(!(mount in fstype)&&$1!~/^\//)next
disks=disks (disk_count++?",":"") sprintf("{\"mount\":%s,\"fs\":%s,\"device\":%s,\"size_bytes\":%.0f,\"used_bytes\":%.0f,\"avail_bytes\":%.0f,\"used_percent\":%.1f}",js(mount,512),js(fstype[mount],64),js($1,512),$2*1024,$3*1024,$4*1024,($3+$4>0?100*$3/($3+$4):0));next}
# who: GNU "name tty Mon dd hh:mm (from)" in the C locale, or "name tty yyyy-mm-dd hh:mm (from)"
section==1{if($1=="USER"&&$2=="TTY"||NF<3||user_count>=1024)next
from="";if($4 in month_of){login=$4" "$5" "$6;from=$7}else{if($NF~/^\(.*\)$/){from=substr($NF,2,length($NF)-2);NF--};login=$3;for(i=4;i<=NF;i++)login=login" "$i}
split(login,part," ");if(part[1] in month_of&&part[2]~/^[0-9]+$/)login=sprintf("%04d-%02d-%02d %s",this_year-(month_of[part[1]]>this_month),month_of[part[1]],part[2],part[3])
if(login~/^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9](:[0-9][0-9])?$/&&tz~/^[-+][0-9][0-9][0-9][0-9]$/){sub(/ /,"T",login);login=login substr(tz,1,3)":"substr(tz,4)}
users=users (user_count++?",":"") sprintf("{\"name\":%s,\"tty\":%s,\"from\":%s,\"login_at\":%s}",js($1,64),js($2,64),js(from,256),js(login,40));next}
section==2{keep_line($0)}
END{for(j=1;j<=log_files;j++){while((getline line<log_file[j])>0)keep_line(line);close(log_file[j])}
# sshd failures among the kept lines, oldest first
for(j=lines>100000?lines-99999:1;j<=lines;j++)if(match(line=ring[j%100000],/sshd(-session)?\[[0-9]+\]: /)&&line~/Failed [a-z\/-]+ for |Invalid user |authentication failure;|maximum authentication attempts/){msg=substr(line,RSTART+RLENGTH);$0=line
# the time: journal seconds, ISO 8601 with an offset (rsyslog), or syslog "Mon dd hh:mm:ss" local
if($1~/^[0-9]+(\.[0-9]+)?$/)t=int($1)
else if($1~/^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:.]+([-+][0-9][0-9]:?[0-9][0-9]|Z)$/){s=$1;t=epoch(substr(s,1,4),substr(s,6,2),substr(s,9,2),substr(s,12,2),substr(s,15,2),substr(s,18,2))
if(match(s,/[-+][0-9][0-9]:?[0-9][0-9]$/)){z=substr(s,RSTART);gsub(/:/,"",z);o=(substr(z,2,2)*3600+substr(z,4,2)*60);t-=(substr(z,1,1)=="-"?-o:o)}}
else if($1 in month_of){y=this_year-(month_of[$1]>this_month);split($3,part,":");t=epoch(y,month_of[$1],$2,part[1],part[2],part[3])-tz_seconds}else continue
# record_id: unix seconds * 1000 + the n-th match in that second
id=t*1000+(same_second[t]<999?same_second[t]:999);same_second[t]++;if(id<=last_id)continue
kind=msg~/^Failed/?1:msg~/^Invalid user/?2:msg~/authentication failure/?3:4
n++;item[n]=sprintf("{\"record_id\":%.0f,\"event_id\":%d,\"level\":\"warning\",\"provider\":\"sshd\",\"logged_at\":\"%s\",\"message\":%s}",id,kind,iso(t),js(msg,500))}
# first run (last-record-id 0): the newest event-cap events; later: the oldest above last-record-id
first=1;if(n>event_cap)first=last_id?1:n-event_cap+1;for(i=first;i<=n&&i<first+event_cap;i++)events=events (i>first?",":"") item[i];truncated=n>event_cap?"true":"false"
printf ":%s\n:%s\n:%s\n:%s\n",disks,users,events,truncated}'

# df sees only local filesystems from the mount table ("$@"): a hung network mount is never stat'ed.
stat_disks() {
  dfo='' to=${FLEETSTAT_DF_TIMEOUT:-5} mf=$P/mounts
  if [ -r "$mf" ]; then [ $# -gt 0 ] || return; set -- -- "$@"
  else set -- -l; mf=/dev/null; fi
  dfo=$(bounded "$to" df -P -k "$@" 2>/dev/null); rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -gt 128 ]; then dfo=; warn "df timed out after ${to}s (a hung mount?): disks missing"; return; fi
  [ "$rc" -eq 0 ] || warn "df reported errors for some filesystems"
}

stat_events() {
  ev_read=true ev_note="event-cap is 0" src='' s=''
  for f in "$L/auth.log" "$L/secure" "$L/authlog" "$L/messages"; do [ -r "$f" ] && [ -f "$f" ] && src=$f && break; done
  [ -n "$src" ] || ! have journalctl || { [ ! -d "$L/journal" ] && [ ! -d /run/log/journal ]; } \
    || [ "$uid" != 0 ] || src=journal
  if [ -z "$src" ]; then ev_read=false ev_note="no readable sshd log (auth.log, secure, authlog, messages, journal)"
    [ "$uid" = 0 ] || ev_note="$ev_note: needs root (sudo)"
  elif [ "$cap" -eq 0 ]; then src=''
  else ev_note="source: $src"; fi
  [ "$src" != journal ] && return
  case $last in ????*) s=--since=@${last%???};; esac
}

# printf format of octal escapes for the bytes of hex string $1, each XORed with $2.
octal() {
  h=$1 fmt=
  while [ -n "$h" ]; do
    r=${h#??} x=$((0x${h%"$r"} ^ $2)) h=$r
    fmt="$fmt\\$((x >> 6 & 7))$((x >> 3 & 7))$((x & 7))"
  done
}

# HMAC-SHA256 of $1, key $mkey: H((K^opad) || H((K^ipad) || m)), key bytes via printf. sha256sum
# (coreutils, busybox) starts in a quarter of openssl's time; the inner hash comes back in hex and
# goes on as bytes. Without it, openssl passes the inner hash by pipe (ksh93 buffers $(...) in files).
# shellcheck disable=SC2059 # the formats are octal escapes built above: no % in them
hmac() {
  octal "$mkey$Z" 54; ki=$fmt
  octal "$mkey$Z" 92; ko=$fmt
  if have sha256sum; then
    mac=$( { printf "$ki"; printf '%s' "$1"; } | sha256sum) && mac=${mac%% *} && hexok "$mac" 64 && octal "$mac" 0 \
      && mac=$(printf "$ko$fmt" | sha256sum) && mac=${mac%% *}
  else
    mac=$( { printf "$ko"; { printf "$ki"; printf '%s' "$1"; } | openssl dgst -sha256 -binary; } | openssl dgst -sha256) \
      && mac=${mac##* }
  fi && hexok "$mac" 64
}

# No printf builtin (mksh, posh: secrets in argv) or yash (cuts non-ASCII): rerun in dash/bash,
# from the file, or from memory as the one-shot command started us (sh -c TEXT fleetstat-probe TEXT).
case $(command -V printf 2>&1) in *builtin*|*built-in*) pb=y;; esac
if [ -z "$pb" ] || [ -n "$YASH_VERSION" ]; then for s in dash bash; do
  have $s && { [ "$0" != fleetstat-probe ] || exec $s -c "$1" "$0" "$@"; exec $s "$0"; }; done; fi
IFS=' ' read -r v rid pass mkey cms cap last extra || [ -n "$v" ] || die 64 "no input line on stdin"
[ "$v" = FLEETSTAT1 ] && hexok "$rid" 32 && hexok "$pass" 64 && hexok "$mkey" 64 && numok "$cms" 5 \
  && numok "$cap" 4 && numok "$last" 16 && [ -z "$extra" ] && [ "$cms" -le 60000 ] && [ "$cap" -le 5000 ] \
  || die 64 "malformed input line (docs/envelope.md)"
exec </dev/null
[ -n "$pb" ] || die 69 "no printf builtin in this sh (secrets would reach argv), nor dash or bash"
IFS=$NL
for t in openssl awk; do have "$t" || die 69 "required tool $t not found in PATH"; done

# CPU samples: one now (read builtin), one after cpu-ms.
unset c1 c2 nc ld mm kb pm
if [ -r "$P/stat" ]; then read -r c1 2>/dev/null <"$P/stat"; case $c1 in "cpu "*) ;; *) c1=;; esac
else nc=$(sysctl -n hw.ncpu 2>/dev/null) c1=$(sysctl -n kern.cp_time 2>/dev/null); fi
if [ "$cms" -gt 0 ]; then
  sleep "$((cms / 1000)).$(printf %03d $((cms % 1000)))" 2>/dev/null || sleep $(((cms + 999) / 1000))
  [ -r "$P/stat" ] || c2=$(sysctl -n kern.cp_time 2>/dev/null)
fi
now=$(date +'%s %z' 2>/dev/null)
# No /proc (BSD, macOS): sysctl.
[ -r "$P/loadavg" ] || ld=$(sysctl -n vm.loadavg 2>/dev/null)
[ -r "$P/uptime" ] || kb=$(sysctl -n kern.boottime 2>/dev/null)
if [ ! -r "$P/meminfo" ] && have sysctl; then
  mm=$(sysctl -n hw.physmem 2>/dev/null || sysctl -n hw.memsize 2>/dev/null) mm=${mm:-0}
  if have vm_stat; then mm="$mm $(vm_stat | awk '/page size of/{s=$8}/Pages (free|inactive|speculative)/{gsub(/\./,"",$NF);n+=$NF}END{print n*s}')"
  else mm="$mm $(sysctl -n vm.stats.vm.v_free_count vm.stats.vm.v_inactive_count hw.pagesize 2>/dev/null | awk '{v[NR]=$1}END{print (v[1]+v[2])*v[3]}')"; fi
fi
# The one-shot command's `uname -srm` ($2) and the node name from /proc spare a uname run.
un=
case $0$2 in fleetstat-probe?*' '?*' '?*) [ ! -r "$P/sys/kernel/hostname" ] || un="${2%% *} - ${2#* }";; esac
[ -n "$un" ] || un=$(uname -snrm 2>/dev/null)
# OS name: os-release, else older files (Amazon Linux 2, CentOS 6, SLES 11, Ubuntu 12.04).
for f in "$E/os-release" "${FLEETSTAT_ETC_ROOT:+$E}/usr/lib/os-release" "$E/system-release" "$E/redhat-release" \
  "$E/SuSE-release" "$E/lsb-release"; do [ -r "$f" ] && break; done
[ -r "$f" ] || ! have sw_vers || pm="$(sw_vers -productName) $(sw_vers -productVersion)"

out=$(awk "$A$C" "$P" "$c1" "$c2" "$cms" "$now" "$un" "$f" "$pm" "$nc" "$ld" "$mm" "$kb" "$YASH_VERSION")
# shellcheck disable=SC2086 # lines (IFS=newline, no globbing)
set -- $out
[ $# -ge 4 ] || die 70 "awk failed (statistics)"
hd=$1 nx=${2#:} W=${3#:} uid=${4#:}
[ -n "$uid" ] || uid=$(id -u 2>/dev/null)
shift 4

np=0
if [ -r "$P/stat" ]; then
  set +f; for d in "$P"/[0-9]*; do [ -e "$d" ] && np=$((np + 1)); done; set -f
else np=$(ps -ax -o pid= 2>/dev/null | awk 'END{print NR}'); fi
stat_disks "$@"
[ -r "$P/net/dev" ] || warn "network counters not collected on this OS"
have who || warn "who not found: users missing"
stat_events
set --
[ -z "$src" ] || [ "$src" = journal ] || { [ ! -f "$src.1" ] || set -- "$src.1"; set -- "$@" "$src"; }
out=$( { printf '%s\n%s\n' "$dfo" "$rid"; ! have who || who 2>/dev/null; [ "$src" != journal ] || { printf '\n%s\n' "$rid"; bounded 10 journalctl -q --no-pager -o short-unix -t sshd \
  -t sshd-session -n 100000 ${s:+"$s"} 2>/dev/null; }; } \
  | awk "$A$R" "$mf" "$now" "$cap" "$last" "$rid" "$@")
# shellcheck disable=SC2086
set -- $out
[ $# -eq 4 ] || die 70 "awk failed (df, who, events)"
report="$hd,\"process_count\":${np:-0},\"disks\":[${1#:}],\"nics\":[$nx],\"users\":[${2#:}],\"events\":{\"readable\":\
$ev_read,\"truncated\":${4#:},\"note\":\"$ev_note\",\"items\":[${3#:}]},\"warnings\":[$W]}"

# EVP_BytesToKey-SHA256 key (OpenSSL 1.0.1+, docs/envelope.md); fd 3 from the group's redirection
# (ksh makes fds opened by exec close-on-exec).
ct=$(printf '%s\n' "$pass" | { printf '%s' "$report" | openssl enc -aes-256-cbc -md sha256 -salt -pass fd:3 \
  -base64 -A 2>/dev/null; } 3<&0) && [ -n "$ct" ] || die 70 "encryption failed (openssl enc)"
ct=RVZQS0RG$ct
hmac "FLEETSTAT1 $rid $ct" || die 70 "MAC computation failed (openssl dgst)"
printf 'FLEETSTAT1 %s %s %s\n' "$rid" "$ct" "$mac"
