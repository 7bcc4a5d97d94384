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
  return [Math]::Round([Math]::Min(100, [Math]::Max(0, 100 * $Part / $Whole)), 2)
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
  $m = [regex]::Match($Line, '^FLEETSTAT1 ([0-9a-f]{32}) ([0-9a-f]{64}) ([0-9a-f]{64}) ([0-9]{1,5}) ([0-9]{1,4}) ([0-9]{1,19})$')
  if (-not $m.Success) { return $null }
  $cpuMs = [int]$m.Groups[4].Value
  $cap = [int]$m.Groups[5].Value
  $last = [decimal]$m.Groups[6].Value
  if ($cpuMs -gt 60000 -or $cap -gt 5000 -or $last -gt [long]::MaxValue) { return $null }
  return @{ RunId = $m.Groups[1].Value; EncPass = $m.Groups[2].Value; MacKeyHex = $m.Groups[3].Value
    CpuMs = $cpuMs; EventCap = $cap; LastRecordId = [long]$last }
}

# CPU busy % from two raw samples of the _Total idle counter (a delta, never since boot).
function Get-CpuSection([int]$IntervalMs, [int]$Cores) {
  $percent = 0
  $slept = [Math]::Max(100, $IntervalMs)
  try {
    $q = "Name='_Total'"
    $a = Get-CimInstance -ClassName Win32_PerfRawData_PerfOS_Processor -Filter $q -OperationTimeoutSec $CimTimeoutSec -ErrorAction Stop
    Start-Sleep -Milliseconds $slept
    $b = Get-CimInstance -ClassName Win32_PerfRawData_PerfOS_Processor -Filter $q -OperationTimeoutSec $CimTimeoutSec -ErrorAction Stop
    $idle = [double]$b.PercentProcessorTime - [double]$a.PercentProcessorTime
    $span = [double]$b.Timestamp_Sys100NS - [double]$a.Timestamp_Sys100NS
    if ($span -gt 0) { $percent = [Math]::Round([Math]::Min(100, [Math]::Max(0, 100 * (1 - $idle / $span))), 2) }
  } catch {
    Add-ProbeWarning ('cpu counters unavailable, using LoadPercentage: ' + $_.Exception.Message)
    $load = @(Get-CimSafe 'Win32_Processor' '' | ForEach-Object { $_.LoadPercentage } | Where-Object { $null -ne $_ })
    if ($load.Count -gt 0) { $percent = [Math]::Round(($load | Measure-Object -Average).Average, 2) }
  }
  return [ordered]@{ percent = $percent; cores = $Cores; interval_ms = $slept; load1 = $null; load5 = $null; load15 = $null }
}

function Get-DiskList {
  $disks = New-Object System.Collections.Generic.List[object]
  foreach ($d in (Get-CimSafe 'Win32_LogicalDisk' 'DriveType=3')) {
    $size = [long]$d.Size; $free = [long]$d.FreeSpace
    if ($size -le 0) { continue }
    $disks.Add([ordered]@{ mount = (Limit-Text ([string]$d.DeviceID + '\') 512); fs = (Limit-Text ([string]$d.FileSystem) 64)
      device = (Limit-Text ([string]$d.DeviceID) 512); size_bytes = $size; used_bytes = ($size - $free); avail_bytes = $free
      used_percent = (Get-Percent ($size - $free) $size) })
  }
  return ,$disks.ToArray()
}

function Get-NicList {
  $nics = New-Object System.Collections.Generic.List[object]
  foreach ($n in (Get-CimSafe 'Win32_PerfRawData_Tcpip_NetworkInterface' '')) {
    $nics.Add([ordered]@{ name = (Limit-Text ([string]$n.Name) 64)
      rx_bytes = [long]$n.BytesReceivedPersec; tx_bytes = [long]$n.BytesSentPersec
      rx_packets = [long]$n.PacketsReceivedPersec; tx_packets = [long]$n.PacketsSentPersec
      rx_errors = [long]$n.PacketsReceivedErrors; tx_errors = [long]$n.PacketsOutboundErrors })
  }
  return ,$nics.ToArray()
}

# Interactive (2), remote desktop (10) and cached (11) logon sessions with their account.
function Get-UserList {
  $users = New-Object System.Collections.Generic.List[object]
  $seen = @{}
  $kinds = @{ 2 = 'console'; 10 = 'rdp'; 11 = 'cached' }
  foreach ($s in (Get-CimSafe 'Win32_LogonSession' 'LogonType=2 OR LogonType=10 OR LogonType=11')) {
    try {
      foreach ($a in @(Get-CimAssociatedInstance -InputObject $s -Association Win32_LoggedOnUser -OperationTimeoutSec $CimTimeoutSec -ErrorAction Stop)) {
        $name = if ($a.Domain) { [string]$a.Domain + '\' + [string]$a.Name } else { [string]$a.Name }
        $key = $name + '|' + [string]$s.LogonId
        if ($seen.ContainsKey($key) -or $users.Count -ge 1024) { continue }
        $seen[$key] = $true
        $login = if ($s.StartTime) { ConvertTo-IsoUtc $s.StartTime } else { '' }
        $users.Add([ordered]@{ name = (Limit-Text $name 64); tty = $kinds[[int]$s.LogonType]; from = ''; login_at = $login })
      }
    } catch { Add-ProbeWarning ('logon session owner unavailable: ' + $_.Exception.Message) }
  }
  return ,$users.ToArray()
}

# Security events after $LastRecordId, oldest first, at most $Cap (needs Administrator).
function Get-SecurityEvents([long]$LastRecordId, [int]$Cap) {
  $result = [ordered]@{ readable = $true; truncated = $false; note = ''; items = @() }
  if ($Cap -le 0) { $result.note = 'event-cap is 0: events not read'; return $result }
  $notes = New-Object System.Collections.Generic.List[string]
  $from = $LastRecordId
  try {
    $newest = @(Get-WinEvent -LogName Security -MaxEvents 1 -ErrorAction Stop)
    $oldest = @(Get-WinEvent -LogName Security -MaxEvents 1 -Oldest -ErrorAction Stop)
  } catch {
    # Matched by exception type and error id, not by message text, which Windows localises.
    $msg = $_.Exception.Message
    if ($_.Exception -is [UnauthorizedAccessException] -or $_.FullyQualifiedErrorId -like '*UnauthorizedAccess*') {
      $result.readable = $false
      $result.note = Limit-Text ('Security log not readable (run the probe account as Administrator): ' + $msg) 512
    } elseif ($_.FullyQualifiedErrorId -like 'NoMatchingEventsFound*') {
      $result.note = 'Security log is empty'
    } else {
      $result.readable = $false
      $result.note = Limit-Text ('Security log not readable: ' + $msg) 512
    }
    return $result
  }
  if ($newest.Count -gt 0 -and $newest[0].RecordId -lt $LastRecordId) {
    $notes.Add("Security log was cleared or rolled back: newest record id $($newest[0].RecordId) is below the last stored $LastRecordId; reading from the start")
    $from = 0
  } elseif ($LastRecordId -gt 0 -and $oldest.Count -gt 0 -and $oldest[0].RecordId -gt $LastRecordId + 1) {
    $notes.Add("$($oldest[0].RecordId - $LastRecordId - 1) events after record id $LastRecordId were overwritten before they could be read")
  }
  $xpath = "*[System[EventRecordID > $from]]"
  try {
    $found = @(Get-WinEvent -LogName Security -FilterXPath $xpath -Oldest -MaxEvents ($Cap + 1) -ErrorAction Stop)
  } catch {
    if ($_.FullyQualifiedErrorId -notlike 'NoMatchingEventsFound*') { $notes.Add('reading events failed: ' + $_.Exception.Message) }
    $found = @()
  }
  if ($found.Count -gt $Cap) { $result.truncated = $true; $found = $found[0..($Cap - 1)] }
  $items = New-Object System.Collections.Generic.List[object]
  foreach ($e in $found) { $items.Add((ConvertTo-EventItem $e)) }
  $result.items = $items.ToArray()
  $result.note = Limit-Text ($notes -join '; ') 512
  return $result
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
  $cpu = Get-CpuSection $ProbeInput.CpuMs ([Math]::Max(1, $cores))

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
  foreach ($p in (Get-CimSafe 'Win32_PageFileUsage' '')) {
    $swapTotal += [long]$p.AllocatedBaseSize * 1048576; $swapUsed += [long]$p.CurrentUsage * 1048576
  }
  $swapUsed = [Math]::Min($swapUsed, $swapTotal)
  $now = Get-Date
  $uptime = 0; $bootText = ''
  if ($boot) { $uptime = [long][Math]::Max(0, [Math]::Floor(($now - $boot).TotalSeconds)); $bootText = ConvertTo-IsoUtc $boot }

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

# Seals a JSON report exactly like `openssl enc -aes-256-cbc -pbkdf2 -md sha256 -iter 1000 -salt`
# plus HMAC-SHA256 over "FLEETSTAT1 <run-id> <base64>"; returns the envelope line (no newline).
function Protect-Report([string]$Json, [string]$RunId, [string]$EncPass, [string]$MacKeyHex, [byte[]]$Salt) {
  if (-not $Salt) {
    $Salt = New-Object byte[] 8
    $rng = [Security.Cryptography.RandomNumberGenerator]::Create(); $rng.GetBytes($Salt); $rng.Dispose()
  }
  $kdf = [Security.Cryptography.Rfc2898DeriveBytes]::new($EncPass, $Salt, $Pbkdf2Iterations, [Security.Cryptography.HashAlgorithmName]::SHA256)
  $keyIv = $kdf.GetBytes($KeyBytes + $IvBytes); $kdf.Dispose()
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
  $hmac = [Security.Cryptography.HMACSHA256]::new((Convert-HexToBytes $MacKeyHex))
  $mac = $hmac.ComputeHash([Text.Encoding]::ASCII.GetBytes("$EnvelopeVersion $RunId $b64")); $hmac.Dispose()
  $macHex = -join ($mac | ForEach-Object { $_.ToString('x2') })
  return "$EnvelopeVersion $RunId $b64 $macHex"
}

function Invoke-Probe {
  $probeInput = Read-ProbeInput ([Console]::In.ReadLine())
  if ($null -eq $probeInput) { [Console]::Error.WriteLine('fleetstat probe: the input line is missing or malformed'); return 64 }
  try { $null = [Security.Cryptography.HashAlgorithmName]::SHA256 } catch {
    [Console]::Error.WriteLine('fleetstat probe: .NET Framework 4.7.2 or later is required (PBKDF2-SHA256)'); return 69
  }
  try {
    $report = New-Report $probeInput
    $json = ConvertTo-Json -InputObject $report -Depth 8 -Compress
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
