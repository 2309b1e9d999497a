<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="en">
  <context>
    <name>Text</name>
    <message numerus="yes">
      <source>It has not answered for %n minute(s). Access may end soon.</source>
      <translation>
        <numerusform>It has not answered for %n minute. Access may end soon.</numerusform>
        <numerusform>It has not answered for %n minutes. Access may end soon.</numerusform>
      </translation>
    </message>
    <message numerus="yes">
      <source>No posture report for %n minute(s). Access may end soon.</source>
      <translation>
        <numerusform>No posture report for %n minute. Access may end soon.</numerusform>
        <numerusform>No posture report for %n minutes. Access may end soon.</numerusform>
      </translation>
    </message>
  </context>
  <context>
    <name>vigil::ui::SignInPrompt</name>
    <message numerus="yes">
      <source>Wrong PIN. %n attempt(s) left before the TPM locks your key.</source>
      <translation>
        <numerusform>Wrong PIN. %n attempt left before the TPM locks your key.</numerusform>
        <numerusform>Wrong PIN. %n attempts left before the TPM locks your key.</numerusform>
      </translation>
    </message>
  </context>
  <context>
    <name>vigil::ui::StatusDetails</name>
    <message numerus="yes">
      <source>%n second(s)</source>
      <translation>
        <numerusform>%n second</numerusform>
        <numerusform>%n seconds</numerusform>
      </translation>
    </message>
    <message numerus="yes">
      <source>%n minute(s)</source>
      <translation>
        <numerusform>%n minute</numerusform>
        <numerusform>%n minutes</numerusform>
      </translation>
    </message>
    <message numerus="yes">
      <source>%n hour(s)</source>
      <translation>
        <numerusform>%n hour</numerusform>
        <numerusform>%n hours</numerusform>
      </translation>
    </message>
    <message numerus="yes">
      <source>%n day(s)</source>
      <translation>
        <numerusform>%n day</numerusform>
        <numerusform>%n days</numerusform>
      </translation>
    </message>
  </context>
  <context>
    <name>vigil::ui::TrayMenu</name>
    <message numerus="yes">
      <source>%n more check(s) to fix…</source>
      <translation>
        <numerusform>%n more check to fix…</numerusform>
        <numerusform>%n more checks to fix…</numerusform>
      </translation>
    </message>
  </context>
  <context>
    <name>vigil::ui::TrayState</name>
    <message numerus="yes">
      <source>Not compliant: %n check(s) to fix</source>
      <translation>
        <numerusform>Not compliant: %n check to fix</numerusform>
        <numerusform>Not compliant: %n checks to fix</numerusform>
      </translation>
    </message>
  </context>
</TS>