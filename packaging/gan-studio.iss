; Inno Setup script for GAN Studio on Windows: installs the PyInstaller folder,
; adds a Start Menu entry (and an optional desktop icon) and an uninstaller.
;
;   1. pyinstaller packaging\gan-studio.spec --noconfirm
;   2. iscc packaging\gan-studio.iss          (Inno Setup 6)
;
; The installer is written to dist\installer\. Models stay in %LOCALAPPDATA%\GAN Studio
; when GAN Studio is uninstalled.

#define AppName "GAN Studio"
#define AppVersion "0.1.0"
#define AppId "io.github.ganstudio.GANStudio"

[Setup]
AppId={#AppId}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=GAN Studio developers
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
PrivilegesRequiredOverridesAllowed=dialog
OutputDir=..\dist\installer
OutputBaseFilename=GAN-Studio-{#AppVersion}-setup
SetupIconFile=..\resources\icons\gan-studio.ico
UninstallDisplayIcon={app}\gan-studio.exe
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
ArchitecturesInstallIn64BitMode=x64compatible

[Tasks]
Name: "desktopicon"; Description: "Create a desktop icon"; GroupDescription: "Additional icons:"; Flags: unchecked

[Files]
Source: "..\dist\GAN Studio\*"; DestDir: "{app}"; Flags: recursesubdirs createallsubdirs ignoreversion

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\gan-studio.exe"; AppUserModelID: "{#AppId}"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\gan-studio.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\gan-studio.exe"; Description: "Start {#AppName}"; Flags: nowait postinstall skipifsilent
