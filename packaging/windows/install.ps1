# ThreatLockDown for Windows: installs threatlockdown.exe next to the Wazuh
# agent's root and the Windows service (automatic, delayed start, restarted
# on failure), and starts it. In an elevated PowerShell:
#   .\install.ps1 [-Root "C:\Program Files (x86)\ossec-agent"]
# Uninstall: threatlockdown.exe service uninstall --root ROOT
param([string]$Root = "C:\Program Files (x86)\ossec-agent")
$ErrorActionPreference = "Stop"
$dir = Join-Path $env:ProgramFiles "ThreatLockDown"
New-Item -ItemType Directory -Force -Path $dir | Out-Null
Copy-Item -Force (Join-Path $PSScriptRoot "threatlockdown.exe") $dir
$exe = Join-Path $dir "threatlockdown.exe"
& $exe service install --root $Root
& $exe service start --root $Root
& $exe service status --root $Root
