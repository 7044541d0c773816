"""贯标导出: the national 公租房基础信息数据标准 export, driven by data/standard/mapping.json.

mapping.py reads and checks the mapping, datasets.py says where each table's rows come from
and who may see them, records.py turns rows into the standard's values (or faults), and
writers.py streams them out as CSV, JSON or XLSX.
"""
