# Test stand-in for a Windows host's powershell.exe (PowerShell 7 on Linux, tests only).
# Called as `<this> -NoProfile -NonInteractive -ExecutionPolicy Bypass -File <probe.ps1>`, exactly
# like the collector's run script calls powershell.exe; defines functions that shadow the
# Windows-only commands probe.ps1 calls, then runs the probe with the same stdin and exit code.
# The scenario (a JSON file named by $env:FLEETSTAT_TEST_SCENARIO) says what the host holds:
#   cim       path of a JSON file: class name -> instances (Win32_PerfRawData_PerfOS_Processor:
#             one list of instances per call), Win32_LoggedOnUser links session -> account
#   log       the Security log: fixtures (event XML files, repeated in turn), first record id,
#             count, optional pad (characters added to one Data value of each record); null = empty
#   access    'admin' or 'denied' (Get-WinEvent fails as it does for a non-Administrator)
#   dotnet    '4.7.2' or '4.6.2' (New-Object refuses the PBKDF2 constructor .NET 4.6.2 lacks)
#   standins  false: define nothing (a PowerShell without CIM and Get-WinEvent)
#   calls     path of a file that gets one JSON line per stand-in call (parameters, records read)
#   maxVisits Get-WinEvent fails once a query has read this many records (a scan of the log)
$ErrorActionPreference = 'Stop'
$scenario = Get-Content -Raw -LiteralPath $env:FLEETSTAT_TEST_SCENARIO | ConvertFrom-Json
$probePath = $args[[Array]::IndexOf($args, '-File') + 1]

# The stand-ins live in a module of their own: their $script: variables are the module's, not
# those of the probe that calls them.
$standIns = {
  param($scenario)
  function Write-StandInCall([hashtable]$Call) {
    if ($scenario.calls) { Add-Content -LiteralPath $scenario.calls -Value (ConvertTo-Json -InputObject $Call -Compress) }
  }

  $script:Cim = Get-Content -Raw -LiteralPath $scenario.cim | ConvertFrom-Json -DateKind String
  $script:CimCalls = @{}
  $script:DateProperties = 'LastBootUpTime', 'StartTime', 'InstallDate'

  # A CIM instance: the fixture's properties, datetimes as local DateTime like CIM returns them.
  function ConvertTo-CimLike($Source, [string]$Class) {
    $o = [ordered]@{}
    foreach ($p in $Source.PSObject.Properties) {
      $o[$p.Name] = if ($script:DateProperties -contains $p.Name -and $p.Value) { ([DateTimeOffset]::Parse($p.Value)).LocalDateTime } else { $p.Value }
    }
    $instance = [pscustomobject]$o
    $instance.PSObject.TypeNames.Insert(0, "Microsoft.Management.Infrastructure.CimInstance#root/cimv2/$Class")
    return $instance
  }

  # WQL where-clauses of the form A=1 OR B='x' (AND binds tighter); anything else is refused.
  function Test-WqlFilter($Instance, [string]$Filter) {
    if (-not $Filter) { return $true }
    foreach ($alternative in ($Filter -split '\s+OR\s+')) {
      $all = $true
      foreach ($term in ($alternative -split '\s+AND\s+')) {
        if ($term -notmatch "^\s*(\w+)\s*=\s*(?:'([^']*)'|(\d+))\s*$") { throw "stand-in: unsupported WQL filter '$Filter'" }
        $want = if ($null -ne $Matches[3]) { $Matches[3] } else { $Matches[2] }
        if ([string]$Instance.($Matches[1]) -ne $want) { $all = $false }
      }
      if ($all) { return $true }
    }
    return $false
  }

  function Get-CimInstance {
    [CmdletBinding()]
    param([string]$ClassName, [string]$Filter, [uint32]$OperationTimeoutSec, [string]$Namespace = 'root/cimv2')
    Write-StandInCall @{ cmd = 'Get-CimInstance'; ClassName = $ClassName; Filter = $Filter; OperationTimeoutSec = $OperationTimeoutSec }
    $source = $script:Cim.$ClassName
    if ($null -eq $source) {
      $exc = New-Object Microsoft.Management.Infrastructure.CimException ('Invalid class ')
      $PSCmdlet.WriteError((New-Object Management.Automation.ErrorRecord $exc, 'HRESULT 0x80041010,Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand', 'MetadataError', $ClassName))
      return
    }
    if ($ClassName -eq 'Win32_PerfRawData_PerfOS_Processor') {
      $n = [int]$script:CimCalls[$ClassName]; $script:CimCalls[$ClassName] = $n + 1
      $source = $source[[Math]::Min($n, $source.Count - 1)]
    }
    foreach ($s in @($source)) { if (Test-WqlFilter $s $Filter) { ConvertTo-CimLike $s $ClassName } }
  }

  function Get-CimAssociatedInstance {
    [CmdletBinding()]
    param($InputObject, [string]$Association, [uint32]$OperationTimeoutSec)
    Write-StandInCall @{ cmd = 'Get-CimAssociatedInstance'; Association = $Association; LogonId = [string]$InputObject.LogonId }
    foreach ($link in @($script:Cim.$Association)) {
      if ([string]$link.Dependent -eq [string]$InputObject.LogonId) { ConvertTo-CimLike $link.Antecedent 'Win32_UserAccount' }
    }
  }

  $script:Titles = @{
    1102 = 'The audit log was cleared.'; 4624 = 'An account was successfully logged on.'; 4625 = 'An account failed to log on.'
    4634 = 'An account was logged off.'; 4672 = 'Special privileges assigned to new logon.'; 4720 = 'A user account was created.'
    4722 = 'A user account was enabled.'; 4724 = "An attempt was made to reset an account's password."
    4732 = 'A member was added to a security-enabled local group.'; 4740 = 'A user account was locked out.'
  }
  $script:LevelNames = @{ 0 = 'Information'; 1 = 'Critical'; 2 = 'Error'; 3 = 'Warning'; 4 = 'Information'; 5 = 'Verbose' }
  $script:Fixtures = @(foreach ($f in @($scenario.log.fixtures)) { if ($f) { (Get-Content -Raw -LiteralPath $f).TrimEnd() } })

  # The XML of record $Id as EventLogRecord.ToXml() gives it: the fixture with this record id,
  # attributes in single quotes and SystemTime with 7 fractional digits, as EvtRender writes them.
  function Get-RecordXml([long]$Id) {
    $xml = $script:Fixtures[($Id - $scenario.log.first) % $script:Fixtures.Count]
    $xml = $xml -replace '<EventRecordID>\d+</EventRecordID>', "<EventRecordID>$Id</EventRecordID>"
    $xml = $xml -replace "SystemTime=`"([^`".]+\.\d{7})\d*Z`"", "SystemTime=`"`$1Z`""
    if ($scenario.log.pad) {
      # A long value (a deep path with accents) in the first Data element.
      $pad = ('C:\Very Long\Path\With Accents-' + [char]0xE9 + '\') * [Math]::Ceiling($scenario.log.pad / 20)
      $xml = ([regex]'(<Data Name="[^"]+">)').Replace($xml, '$1' + $pad.Substring(0, $scenario.log.pad), 1)
    }
    return $xml -replace '="([^"]*)"', "='`$1'"
  }

  # An EventLogRecord-shaped object: the properties probe.ps1 and Format-List use, ToXml(), and
  # the Message Get-WinEvent adds (title line and the event's data fields, one per line).
  function New-RecordObject([long]$Id, [xml]$Doc, [string]$Xml) {
    $sys = $Doc.Event.System
    $lines = @($script:Titles[[int]$sys.EventID], '')
    foreach ($d in @($Doc.SelectNodes('/Event/EventData/Data | /Event/UserData/*/*'))) {
      $name = if ($d.Name -and $d.LocalName -eq 'Data') { $d.Name } else { $d.LocalName }
      $lines += "`t${name}:`t" + $d.InnerText
    }
    $record = [pscustomobject]@{
      RecordId = [long]$Id; Id = [int]$sys.EventID; Level = [byte]$sys.Level
      LevelDisplayName = $script:LevelNames[[int]$sys.Level]; ProviderName = [string]$sys.Provider.Name
      LogName = 'Security'; MachineName = [string]$sys.Computer
      TimeCreated = ([DateTimeOffset]::Parse($sys.TimeCreated.SystemTime, [Globalization.CultureInfo]::InvariantCulture)).LocalDateTime
      Message = ($lines -join "`r`n")
    }
    $record.PSObject.TypeNames.Insert(0, 'System.Diagnostics.Eventing.Reader.EventLogRecord')
    Add-Member -InputObject $record -MemberType NoteProperty -Name XmlText -Value $Xml
    Add-Member -InputObject $record -MemberType ScriptMethod -Name ToXml -Value { $this.XmlText }
    return $record
  }

  # Get-WinEvent -LogName Security as GetWinEventCommand.ReadEvents does it: newest first unless
  # -Oldest, the XPath filter tested on every record read (real XPath 1.0 over the record's XML),
  # one more record read after -MaxEvents matches, NoMatchingEventsFound when nothing matched.
  function Get-WinEvent {
    [CmdletBinding()]
    param([Parameter(Position = 0)][string[]]$LogName, [long]$MaxEvents = -1, [switch]$Oldest, [string]$FilterXPath = '*')
    $visits = 0
    $found = 0
    try {
      if ($scenario.access -eq 'denied') {
        $inner = New-Object UnauthorizedAccessException 'Attempted to perform an unauthorized operation.'
        $exc = New-Object Exception ("Could not retrieve information about the $LogName log. Error: " + $inner.Message), $inner
        $PSCmdlet.WriteError((New-Object Management.Automation.ErrorRecord $exc, 'LogInfoUnavailable', 'NotSpecified', $null))
        return
      }
      if ($LogName -ne 'Security') { throw "stand-in: only the Security log exists here, not $LogName" }
      $count = if ($scenario.log) { [long]$scenario.log.count } else { 0 }
      $first = if ($scenario.log) { [long]$scenario.log.first } else { 1 }
      $limit = if ($scenario.maxVisits) { [long]$scenario.maxVisits } else { 100000 }
      for ($i = 0; $i -lt $count; $i++) {
        $id = if ($Oldest) { $first + $i } else { $first + $count - 1 - $i }
        $visits++
        if ($visits -gt $limit) { throw "stand-in: this query read more than $limit records of the Security log (filter $FilterXPath)" }
        $xml = Get-RecordXml $id
        $doc = [xml]($xml -replace " xmlns='[^']*'", '')
        if ($FilterXPath -ne '*' -and $null -eq $doc.SelectSingleNode('/' + $FilterXPath)) { continue }
        if ($MaxEvents -ne -1 -and $found -ge $MaxEvents) { break }
        $found++
        New-RecordObject $id $doc $xml
      }
      if ($found -eq 0) {
        $exc = New-Object Exception 'No events were found that match the specified selection criteria.'
        $PSCmdlet.WriteError((New-Object Management.Automation.ErrorRecord $exc, 'NoMatchingEventsFound', 'ObjectNotFound', $null))
      }
    } finally {
      Write-StandInCall @{ cmd = 'Get-WinEvent'; LogName = "$LogName"; MaxEvents = $MaxEvents; Oldest = [bool]$Oldest; FilterXPath = $FilterXPath; visits = $visits; returned = $found }
    }
  }

  if ($scenario.dotnet -eq '4.6.2') {
    # .NET Framework 4.6.2 has HashAlgorithmName but no Rfc2898DeriveBytes constructor taking one:
    # PowerShell's New-Object then fails as below. Everything else goes to the real New-Object.
    function New-Object {
      param([Parameter(Position = 0)][string]$TypeName, [Parameter(Position = 1)][object[]]$ArgumentList, [hashtable]$Property)
      if ($TypeName -match 'Rfc2898DeriveBytes$' -and @($ArgumentList).Count -eq 4) {
        throw (New-Object Management.Automation.MethodException ('Cannot find an overload for "Rfc2898DeriveBytes" and the argument count: "4".'))
      }
      $splat = @{ TypeName = $TypeName }
      if ($PSBoundParameters.ContainsKey('ArgumentList')) { $splat.ArgumentList = $ArgumentList }
      if ($Property) { $splat.Property = $Property }
      Microsoft.PowerShell.Utility\New-Object @splat
    }
  }
  Export-ModuleMember -Function Get-CimInstance, Get-CimAssociatedInstance, Get-WinEvent, New-Object
}
if ($scenario.standins -ne $false) { $null = New-Module -Name WindowsStandIns -ScriptBlock $standIns -ArgumentList $scenario | Import-Module }

& $probePath
exit $LASTEXITCODE
