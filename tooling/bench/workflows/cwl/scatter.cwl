#!/usr/bin/env cwl-runner
# A scatter of trivial steps: one `echo` per item of `items`, each writing its item to a file;
# the workflow gathers the files. The bench suite's cwl case runs it with 1,000 items, side by
# side with the reference runner (cwltool --parallel --no-container).
cwlVersion: v1.2
class: Workflow
requirements:
  ScatterFeatureRequirement: {}
inputs:
  items: int[]
outputs:
  echoed:
    type: File[]
    outputSource: echo/out
steps:
  echo:
    run:
      class: CommandLineTool
      baseCommand: echo
      inputs:
        item: {type: int, inputBinding: {}}
      outputs:
        out: stdout
      stdout: item.txt
    scatter: item
    in: {item: items}
    out: [out]
