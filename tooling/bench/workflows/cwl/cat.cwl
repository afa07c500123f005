#!/usr/bin/env cwl-runner
# A one-step tool: the fixed cost of a CWL run (the bench suite's cwl case times it next to cwltool).
cwlVersion: v1.2
class: CommandLineTool
baseCommand: cat
inputs:
  file: {type: File, inputBinding: {}}
outputs:
  copy: stdout
stdout: copy.txt
