"""The task catalog: `lookup` (names -> SeqIO tasks and mixtures, registered lazily), `spec`
(the collection contract, plain data), `preflight` (is each dataset's data in place) and
`testing` (render a catalog task's first examples).
"""
