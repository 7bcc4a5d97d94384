# fleetstat probe for Windows: Windows PowerShell 5.1 and PowerShell 7, nothing installed.
# Reads one line on stdin (docs/envelope.md), collects report schema v1 (src/probe/report.ts)
# with CIM and Get-WinEvent, seals it into the FLEETSTAT1 envelope with .NET and prints one line.
# The secrets live only in variables: never in argv, the environment or a file.
# Dot-sourcing the script (". .\probe.ps1") only defines the functions, e.g. to call
# Protect-Report on a given JSON with a fixed salt and compare it with the test vectors.
# Keep this file ASCII: Windows PowerShell reads it in the ANSI code page if the BOM is lost.

$EnvelopeVersion = 'FLEETSTAT1'
$SaltHeader = 'Salted__'
$Pbkdf2Iterations = 1000
$KeyBytes = 32
$IvBytes = 16
$MaxMessageChars = 8192
$MaxRawChars = 32768
$CimTimeoutSec = 15
# The collector refuses a report over 4 MiB (MAX_REPORT_BYTES): events stop at this many bytes of
# JSON and the whole report is kept under $MaxReportBytes, so a host with huge events still reports.
$MaxEventBytes = 2097152
$MaxReportBytes = 3670016
# The event query never walks back more than this many records from the newest one, however
# large the Security log is (docs/windows.md, "How the event query is bounded").
$MaxBacklogRecords = 20000
$script:Warnings = New-Object System.Collections.Generic.List[string]

function Add-ProbeWarning([string]$Text) {
  if ($script:Warnings.Count -lt 64) { $script:Warnings.Add((Limit-Text $Text 512)) }
}

function Limit-Text([string]$Text, [int]$Max) {
  if ($null -eq $Text) { return '' }
  if ($Text.Length -gt $Max) { return $Text.Substring(0, $Max) }
  return $Text
}

function ConvertTo-IsoUtc([datetime]$When) {
  return $When.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss.fffZ', [Globalization.CultureInfo]::InvariantCulture)
}

function Get-Percent([double]$Part, [double]$Whole) {
  if ($Whole -le 0) { return 0 }
  # 0.0 and 100.0, not 0 and 100: with an int first argument PowerShell 7 picks Max(int, int)
  # and rounds the percentage to a whole number.
  return [Math]::Round([Math]::Min(100.0, [Math]::Max(0.0, 100 * $Part / $Whole)), 2)
}

# One guarded CIM query: a failure becomes a warning and an empty result, never a failed run.
function Get-CimSafe([string]$Class, [string]$Filter) {
  try {
    if ($Filter) { return @(Get-CimInstance -ClassName $Class -Filter $Filter -OperationTimeoutSec $CimTimeoutSec -ErrorAction Stop) }
    return @(Get-CimInstance -ClassName $Class -OperationTimeoutSec $CimTimeoutSec -ErrorAction Stop)
  } catch {
    Add-ProbeWarning ("$Class unavailable: " + $_.Exception.Message)
    return @()
  }
}

function Read-ProbeInput([string]$Line) {
  if ($null -eq $Line) { return $null }
  # A profile that sets $OutputEncoding to UTF-8 with BOM makes PowerShell put a byte-order mark
  # before the line it pipes to us: decoded as U+FEFF, or as 2-3 ANSI/OEM characters.
  $fields = [regex]::Match($Line, '^(?:\uFEFF|[^\x00-\x7F]{2,3})?FLEETSTAT1 ([0-9a-f]{32}) ([0-9a-f]{64}) ([0-9a-f]{64}) ([0-9]{1,5}) ([0-9]{1,4}) ([0-9]{1,19})$')
  if (-not $fields.Success) { return $null }
  $cpuMs = [int]$fields.Groups[4].Value
  $cap = [int]$fields.Groups[5].Value
  $last = [decimal]$fields.Groups[6].Value
  if ($cpuMs -gt 60000 -or $cap -gt 5000 -or $last -gt [long]::MaxValue) { return $null }
  return @{ RunId = $fields.Groups[1].Value; EncPass = $fields.Groups[2].Value; MacKeyHex = $fields.Groups[3].Value
    CpuMs = $cpuMs; EventCap = $cap; LastRecordId = [long]$last }
}

# CPU busy % from two raw samples of the _Total idle counter, $IntervalMs apart; with
# $IntervalMs 0 no sleep and the average since $Boot. Always the cumulative counters (ms: the
# raw 100 ns values pass 2^53), from which the server computes the figure between two rounds.
function Get-CpuSection([int]$IntervalMs, [int]$Cores, $Boot) {
  $percent = 0
  $slept = 0
  $counters = $null
  try {
    $q = "Name='_Total'"
    $a = Get-CimInstance -ClassName Win32_PerfRawData_PerfOS_Processor -Filter $q -OperationTimeoutSec $CimTimeoutSec -ErrorAction Stop
    $b = $a
    if ($IntervalMs -gt 0) {
      $slept = [Math]::Max(100, $IntervalMs)
      Start-Sleep -Milliseconds $slept
      $b = Get-CimInstance -ClassName Win32_PerfRawData_PerfOS_Processor -Filter $q -OperationTimeoutSec $CimTimeoutSec -ErrorAction Stop
      $idle = [double]$b.PercentProcessorTime - [double]$a.PercentProcessorTime
      $span = [double]$b.Timestamp_Sys100NS - [double]$a.Timestamp_Sys100NS
    } elseif ($Boot) {
      $idle = [double]$b.PercentProcessorTime
      $span = [double]((Get-Date) - $Boot).Ticks
    } else {
      $idle = 0; $span = 0
      Add-ProbeWarning 'boot time unknown: no cpu percent since boot'
    }
    if ($span -gt 0) { $percent = [Math]::Round([Math]::Min(100.0, [Math]::Max(0.0, 100 * (1 - $idle / $span))), 2) }
    $total = [long][Math]::Floor([decimal]$b.Timestamp_Sys100NS / 10000)
    $idleMs = [long][Math]::Floor([decimal]$b.PercentProcessorTime / 10000)
    if ($idleMs -le $total) { $counters = [ordered]@{ total = $total; idle = $idleMs } }
  } catch {
    Add-ProbeWarning ('cpu counters unavailable, using LoadPercentage: ' + $_.Exception.Message)
    $load = @(Get-CimSafe 'Win32_Processor' '' | ForEach-Object { $_.LoadPercentage } | Where-Object { $null -ne $_ })
    if ($load.Count -gt 0) { $percent = [Math]::Round(($load | Measure-Object -Average).Average, 2) }
    $slept = [Math]::Max(0, $IntervalMs)
  }
  return [ordered]@{ percent = $percent; cores = $Cores; interval_ms = $slept; counters = $counters; load1 = $null; load5 = $null; load15 = $null }
}

function Get-DiskList {
  $disks = New-Object System.Collections.Generic.List[object]
  foreach ($disk in (Get-CimSafe 'Win32_LogicalDisk' 'DriveType=3')) {
    $size = [long]$disk.Size; $free = [long]$disk.FreeSpace
    if ($size -le 0) { continue }
    $disks.Add([ordered]@{ mount = (Limit-Text ([string]$disk.DeviceID + '\') 512); fs = (Limit-Text ([string]$disk.FileSystem) 64)
      device = (Limit-Text ([string]$disk.DeviceID) 512); size_bytes = $size; used_bytes = ($size - $free); avail_bytes = $free
      used_percent = (Get-Percent ($size - $free) $size) })
  }
  return ,$disks.ToArray()
}

function Get-NicList {
  $nics = New-Object System.Collections.Generic.List[object]
  foreach ($nic in (Get-CimSafe 'Win32_PerfRawData_Tcpip_NetworkInterface' '')) {
    $nics.Add([ordered]@{ name = (Limit-Text ([string]$nic.Name) 64)
      rx_bytes = [long]$nic.BytesReceivedPersec; tx_bytes = [long]$nic.BytesSentPersec
      rx_packets = [long]$nic.PacketsReceivedPersec; tx_packets = [long]$nic.PacketsSentPersec
      rx_errors = [long]$nic.PacketsReceivedErrors; tx_errors = [long]$nic.PacketsOutboundErrors })
  }
  return ,$nics.ToArray()
}

# Interactive (2), remote desktop (10) and cached (11) logon sessions with their account.
function Get-UserList {
  $users = New-Object System.Collections.Generic.List[object]
  $seen = @{}
  $kinds = @{ 2 = 'console'; 10 = 'rdp'; 11 = 'cached' }
  foreach ($session in (Get-CimSafe 'Win32_LogonSession' 'LogonType=2 OR LogonType=10 OR LogonType=11')) {
    try {
      foreach ($account in @(Get-CimAssociatedInstance -InputObject $session -Association Win32_LoggedOnUser -OperationTimeoutSec $CimTimeoutSec -ErrorAction Stop)) {
        $name = if ($account.Domain) { [string]$account.Domain + '\' + [string]$account.Name } else { [string]$account.Name }
        $key = $name + '|' + [string]$session.LogonId
        if ($seen.ContainsKey($key) -or $users.Count -ge 1024) { continue }
        $seen[$key] = $true
        $login = if ($session.StartTime) { ConvertTo-IsoUtc $session.StartTime } else { '' }
        $users.Add([ordered]@{ name = (Limit-Text $name 64); tty = $kinds[[int]$session.LogonType]; from = ''; login_at = $login })
      }
    } catch { Add-ProbeWarning ('logon session owner unavailable: ' + $_.Exception.Message) }
  }
  return ,$users.ToArray()
}

# Whether a Get-WinEvent error means "no right to read the log". Get-WinEvent wraps the
# UnauthorizedAccessException in its own error (id LogInfoUnavailable), so the exception chain is
# searched; matched by type and error id, not by message text, which Windows localises.
function Test-AccessDenied($ErrorRecord) {
  for ($exception = $ErrorRecord.Exception; $null -ne $exception; $exception = $exception.InnerException) {
    if ($exception -is [UnauthorizedAccessException]) { return $true }
  }
  return $ErrorRecord.FullyQualifiedErrorId -like 'LogInfoNoAccess*'
}

# One record id end of the log: the newest (-Oldest:$false) or the oldest; $null when empty.
function Get-EdgeRecord([switch]$Oldest) {
  try { return @(Get-WinEvent -LogName Security -MaxEvents 1 -Oldest:$Oldest -ErrorAction Stop)[0] } catch {
    if ($_.FullyQualifiedErrorId -like 'NoMatchingEventsFound*') { return $null }
    throw
  }
}

# Security events after $LastRecordId, oldest first, at most $Cap and $MaxEventBytes of JSON
# (needs Administrator). The query is bounded (docs/windows.md): it reads newest-first and the
# filter's lower end is a record that exists, so the reader stops there instead of walking on to
# the start of the log; it never looks further back than $MaxBacklogRecords from the newest record.
function Get-SecurityEvents([long]$LastRecordId, [int]$Cap) {
  $result = [ordered]@{ readable = $true; truncated = $false; note = ''; items = @() }
  if ($Cap -le 0) { $result.note = 'event-cap is 0: events not read'; return $result }
  $notes = New-Object System.Collections.Generic.List[string]
  try {
    $newest = Get-EdgeRecord
    $oldest = Get-EdgeRecord -Oldest
  } catch {
    $msg = $_.Exception.Message
    $result.readable = $false
    if (Test-AccessDenied $_) {
      $result.note = Limit-Text ('Security log not readable: run the probe account as Administrator (member of the local Administrators group). ' + $msg) 512
    } else {
      $result.note = Limit-Text ('Security log not readable: ' + $msg) 512
    }
    return $result
  }
  if ($null -eq $newest) { $result.note = 'Security log is empty'; return $result }
  $newestId = [long]$newest.RecordId
  $oldestId = if ($oldest) { [long]$oldest.RecordId } else { $newestId }
  $from = $LastRecordId
  if ($newestId -lt $LastRecordId) {
    $notes.Add("Security log was cleared or rolled back: newest record id $newestId is below the last stored $LastRecordId; reading from the start")
    $from = 0
  } elseif ($LastRecordId -gt 0 -and $oldestId -gt $LastRecordId + 1) {
    $notes.Add("$($oldestId - $LastRecordId - 1) events after record id $LastRecordId were overwritten before they could be read")
  }
  if ($newestId -le $from) { $result.note = Limit-Text ($notes -join '; ') 512; return $result }
  # $low: the last record not to report. It is the filter's lower end (>=), so the reader's one
  # read past -MaxEvents finds it at once and stops. When it is below the oldest record (nothing
  # to find), the whole log is newer than $low and so smaller than the bound.
  $low = [Math]::Max([Math]::Max($from, $oldestId - 1), $newestId - $MaxBacklogRecords)
  $skipped = $low - [Math]::Max($from, $oldestId - 1)
  if ($skipped -gt 0) { $notes.Add("$skipped older events were skipped: only the newest $MaxBacklogRecords records are looked at") }
  $high = [Math]::Min($newestId, $low + $Cap)
  if ($high -lt $newestId) { $result.truncated = $true }
  $xpath = "*[System[EventRecordID >= $low and EventRecordID <= $high]]"
  try {
    $found = @(Get-WinEvent -LogName Security -FilterXPath $xpath -MaxEvents ($high - $low) -ErrorAction Stop)
  } catch {
    if ($_.FullyQualifiedErrorId -notlike 'NoMatchingEventsFound*') { $notes.Add('reading events failed: ' + $_.Exception.Message) }
    $found = @()
  }
  # Newest-first from the reader; reported oldest first, within the byte budget.
  [Array]::Reverse($found)
  $items = New-Object System.Collections.Generic.List[object]
  $bytes = 0
  $left = 0
  foreach ($record in $found) {
    if ([long]$record.RecordId -le $low) { continue }
    if ($left -gt 0) { $left++; continue }
    $item = ConvertTo-EventItem $record
    $size = (Get-JsonBytes $item) + 1
    if ($items.Count -gt 0 -and $bytes + $size -gt $MaxEventBytes) { $left = 1; continue }
    $items.Add($item); $bytes += $size
  }
  if ($left -gt 0) {
    $result.truncated = $true
    $notes.Add("$left events left for the next run: the events of one run are kept under $MaxEventBytes bytes")
  }
  if ($high -lt $newestId) { $notes.Add("$($newestId - $high) more events are waiting (event-cap $Cap); they come in the next runs") }
  $result.items = $items.ToArray()
  $result.note = Limit-Text ($notes -join '; ') 512
  return $result
}

# Bytes of UTF-8 JSON that ConvertTo-Json makes of $Value, as it will appear in the report.
function Get-JsonBytes($Value) {
  return [Text.Encoding]::UTF8.GetByteCount((ConvertTo-Json -InputObject $Value -Depth 8 -Compress))
}

# ($Event is an automatic variable in PowerShell, hence $Record.)
function ConvertTo-EventItem($Record) {
  $level = ''
  try { $level = [string]$Record.LevelDisplayName } catch { $level = '' }
  if (-not $level) { $level = [string]$Record.Level }
  $message = ''
  try { $message = [string]$Record.Message } catch { $message = '' }
  $raw = ''
  try { $raw = [string]$Record.ToXml() } catch { $raw = '' }
  $when = if ($Record.TimeCreated) { ConvertTo-IsoUtc $Record.TimeCreated } else { '' }
  return [ordered]@{ record_id = [long]$Record.RecordId; event_id = [long]$Record.Id; level = (Limit-Text $level 32)
    provider = (Limit-Text ([string]$Record.ProviderName) 256); logged_at = $when
    message = (Limit-Text $message $MaxMessageChars); raw = (Limit-Text $raw $MaxRawChars) }
}

function New-Report($ProbeInput) {
  $os = Get-CimSafe 'Win32_OperatingSystem' '' | Select-Object -First 1
  $cs = Get-CimSafe 'Win32_ComputerSystem' '' | Select-Object -First 1
  $cores = [Environment]::ProcessorCount
  if ($cs -and $cs.NumberOfLogicalProcessors) { $cores = [int]$cs.NumberOfLogicalProcessors }
  $cpu = Get-CpuSection $ProbeInput.CpuMs ([Math]::Max(1, $cores)) $(if ($os) { $os.LastBootUpTime })

  $memTotal = 0; $memFree = 0; $procs = 0; $boot = $null; $caption = ''; $version = ''
  if ($os) {
    $memTotal = [long]$os.TotalVisibleMemorySize * 1024; $memFree = [long]$os.FreePhysicalMemory * 1024
    $procs = [long]$os.NumberOfProcesses; $boot = $os.LastBootUpTime
    $caption = ([string]$os.Caption).Trim(); $version = [string]$os.Version
  } else {
    try { $procs = @(Get-Process).Count } catch { Add-ProbeWarning 'process count unavailable' }
  }
  $memFree = [Math]::Min($memFree, $memTotal)
  $swapTotal = 0; $swapUsed = 0
  foreach ($pageFile in (Get-CimSafe 'Win32_PageFileUsage' '')) {
    $swapTotal += [long]$pageFile.AllocatedBaseSize * 1048576; $swapUsed += [long]$pageFile.CurrentUsage * 1048576
  }
  $swapUsed = [Math]::Min($swapUsed, $swapTotal)
  $now = Get-Date
  $uptime = 0; $bootText = ''
  if ($boot) { $uptime = [long][Math]::Max(0.0, [Math]::Floor(($now - $boot).TotalSeconds)); $bootText = ConvertTo-IsoUtc $boot }

  $events = Get-SecurityEvents $ProbeInput.LastRecordId $ProbeInput.EventCap
  return [ordered]@{
    schema = 1; probe = 'ps1'; collected_at = (ConvertTo-IsoUtc $now)
    host = [ordered]@{ hostname = (Limit-Text ([Environment]::MachineName) 255); os = 'windows'
      os_name = (Limit-Text $caption 256); kernel = (Limit-Text $version 256); arch = (Limit-Text ([string]$env:PROCESSOR_ARCHITECTURE) 32) }
    cpu = $cpu
    memory = [ordered]@{ total_bytes = $memTotal; used_bytes = ($memTotal - $memFree); available_bytes = $memFree; percent = (Get-Percent ($memTotal - $memFree) $memTotal) }
    swap = [ordered]@{ total_bytes = $swapTotal; used_bytes = $swapUsed; percent = (Get-Percent $swapUsed $swapTotal) }
    uptime_seconds = $uptime; boot_time = $bootText; process_count = $procs
    disks = (Get-DiskList); nics = (Get-NicList); users = (Get-UserList)
    events = $events
    warnings = $script:Warnings.ToArray()
  }
}

function Convert-HexToBytes([string]$Hex) {
  $bytes = New-Object byte[] ($Hex.Length / 2)
  for ($i = 0; $i -lt $bytes.Length; $i++) { $bytes[$i] = [Convert]::ToByte($Hex.Substring(2 * $i, 2), 16) }
  return ,$bytes
}

# PBKDF2-SHA256: the Rfc2898DeriveBytes constructor that takes a HashAlgorithmName is .NET
# Framework 4.7.2 or later (New-Object rather than ::new, which PowerShell before 5.0 lacks).
function Get-KeyIv([string]$EncPass, [byte[]]$Salt) {
  $kdf = New-Object Security.Cryptography.Rfc2898DeriveBytes -ArgumentList $EncPass, $Salt, $Pbkdf2Iterations, ([Security.Cryptography.HashAlgorithmName]::SHA256)
  $keyIv = $kdf.GetBytes($KeyBytes + $IvBytes); $kdf.Dispose()
  return ,$keyIv
}

# Seals a JSON report exactly like `openssl enc -aes-256-cbc -pbkdf2 -md sha256 -iter 1000 -salt`
# plus HMAC-SHA256 over "FLEETSTAT1 <run-id> <base64>"; returns the envelope line (no newline).
function Protect-Report([string]$Json, [string]$RunId, [string]$EncPass, [string]$MacKeyHex, [byte[]]$Salt) {
  if (-not $Salt) {
    $Salt = New-Object byte[] 8
    $rng = [Security.Cryptography.RandomNumberGenerator]::Create(); $rng.GetBytes($Salt); $rng.Dispose()
  }
  $keyIv = Get-KeyIv $EncPass $Salt
  $aes = [Security.Cryptography.Aes]::Create()
  $aes.Mode = [Security.Cryptography.CipherMode]::CBC
  $aes.Padding = [Security.Cryptography.PaddingMode]::PKCS7
  $aes.Key = [byte[]]$keyIv[0..($KeyBytes - 1)]
  $aes.IV = [byte[]]$keyIv[$KeyBytes..($KeyBytes + $IvBytes - 1)]
  $plain = (New-Object System.Text.UTF8Encoding $false).GetBytes($Json)
  $encryptor = $aes.CreateEncryptor()
  $cipher = $encryptor.TransformFinalBlock($plain, 0, $plain.Length)
  $encryptor.Dispose(); $aes.Dispose()
  $header = [Text.Encoding]::ASCII.GetBytes($SaltHeader)
  $blob = New-Object byte[] ($header.Length + $Salt.Length + $cipher.Length)
  [Array]::Copy($header, 0, $blob, 0, $header.Length)
  [Array]::Copy($Salt, 0, $blob, $header.Length, $Salt.Length)
  [Array]::Copy($cipher, 0, $blob, $header.Length + $Salt.Length, $cipher.Length)
  $b64 = [Convert]::ToBase64String($blob)
  $hmac = New-Object Security.Cryptography.HMACSHA256 -ArgumentList (, (Convert-HexToBytes $MacKeyHex))
  $mac = $hmac.ComputeHash([Text.Encoding]::ASCII.GetBytes("$EnvelopeVersion $RunId $b64")); $hmac.Dispose()
  $macHex = -join ($mac | ForEach-Object { $_.ToString('x2') })
  return "$EnvelopeVersion $RunId $b64 $macHex"
}

# What this PowerShell and .NET lack of what the probe calls, each tried as it is used (never
# inferred from a version number); empty when everything is there.
function Find-MissingCapabilities {
  $missing = New-Object System.Collections.Generic.List[string]
  foreach ($name in 'Get-CimInstance', 'Get-CimAssociatedInstance', 'Get-WinEvent', 'ConvertTo-Json') {
    if (-not (Get-Command -Name $name -ErrorAction SilentlyContinue)) { $missing.Add("the $name command (Windows PowerShell 3.0 or later; 5.1 is supported)") }
  }
  $salt = New-Object byte[] 8
  try { $null = Get-KeyIv 'probe' $salt } catch {
    $missing.Add('PBKDF2-SHA256, [Security.Cryptography.Rfc2898DeriveBytes] with a HashAlgorithmName (.NET Framework 4.7.2 or later): ' + $_.Exception.Message)
  }
  try { $null = Protect-Report '{}' ('0' * 32) ('0' * 64) ('0' * 64) $salt } catch {
    $missing.Add('AES-256-CBC or HMAC-SHA256 from .NET: ' + $_.Exception.Message)
  }
  return ,$missing.ToArray()
}

# The report as JSON under $MaxReportBytes: if it is larger (huge user, disk or NIC lists), the
# lists are halved, events first, and a warning says what was cut; a host never fails every run.
function ConvertTo-BoundedJson($Report) {
  $json = ConvertTo-Json -InputObject $Report -Depth 8 -Compress
  foreach ($list in 'events', 'users', 'nics', 'disks') {
    while ([Text.Encoding]::UTF8.GetByteCount($json) -gt $MaxReportBytes) {
      $items = if ($list -eq 'events') { $Report.events.items } else { $Report[$list] }
      if ($items.Count -eq 0) { break }
      $keep = [int][Math]::Floor($items.Count / 2)
      $kept = if ($keep -gt 0) { $items[0..($keep - 1)] } else { @() }
      if ($list -eq 'events') { $Report.events.items = @($kept); $Report.events.truncated = $true } else { $Report[$list] = @($kept) }
      $Report.warnings = @(@($Report.warnings) + @("report over $MaxReportBytes bytes: $list cut to $keep") | Select-Object -Last 64)
      $json = ConvertTo-Json -InputObject $Report -Depth 8 -Compress
    }
  }
  return $json
}

function Invoke-Probe {
  $probeInput = Read-ProbeInput ([Console]::In.ReadLine())
  if ($null -eq $probeInput) { [Console]::Error.WriteLine('fleetstat probe: the input line is missing or malformed'); return 64 }
  $missing = Find-MissingCapabilities
  if ($missing.Count -gt 0) {
    [Console]::Error.WriteLine('fleetstat probe: this PowerShell or .NET lacks what the probe calls: ' + ($missing -join '; '))
    return 69
  }
  try {
    $report = New-Report $probeInput
    $json = ConvertTo-BoundedJson $report
    $line = Protect-Report $json $probeInput.RunId $probeInput.EncPass $probeInput.MacKeyHex $null
    [Console]::Out.Write($line + [char]10)
    [Console]::Out.Flush()
    return 0
  } catch {
    [Console]::Error.WriteLine('fleetstat probe: internal failure at line ' + $_.InvocationInfo.ScriptLineNumber + ': ' + $_.Exception.Message)
    return 70
  }
}

if ($MyInvocation.InvocationName -ne '.') { exit (Invoke-Probe) }
