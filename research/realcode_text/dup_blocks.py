"""Functions with blocks identical up to the names of their own values (llc's tail merging makes one of
them): how many, and the CV error of a real-code model on them.  Reads residuals.py's saved
predictions (run it first on the same corpus).  python dup_blocks.py   (corpus: build/realcode)"""
import re

import numpy as np
import pyarrow.parquet as pq

from irtoolkit.costmodel.dataset.realcode import evaluate as E

z=np.load('/tmp/realcode_text_cv.npz', allow_pickle=False)
rows,X=E.split('build/realcode')['train']
pk=np.array([r['package'] for r in rows]); keep=np.isin(pk, np.unique(z['pk']))
rows=[r for r,k in zip(rows,keep) if k]
assert len(rows)==len(z['pk'])
mods={}
for p in set(r['package'] for r in rows):
    for m in pq.read_table(f'build/realcode/packages/{p}/modules.parquet',columns=['ir_sha256','text']).to_pylist():
        mods[m['ir_sha256']]=m['text']
blk=re.compile(r'\n\n')
def dups(body):
    blocks=body.split('\n\n')
    seen={}; n=0; ninst=0
    for b in blocks[1:]:
        lines=[l for l in b.splitlines() if l.strip() and not l.lstrip().startswith(';') and not re.match(r'^\d+:|^[\w.]+:',l)]
        if len(lines)<2: continue
        # rename local values defined in the block
        defs={}
        out=[]
        for l in lines:
            m=re.match(r'\s*(%[\w.]+) =',l)
            t=l
            for k,v in defs.items(): t=re.sub(re.escape(k)+r'\b',v,t)
            if m: defs[m.group(1)]=f'%d{len(defs)}'; t=t.replace(m.group(1)+' =',defs[m.group(1)]+' =',1)
            t=re.sub(r', !dbg !\d+|#\d+','',t)
            out.append(t.strip())
        key='\n'.join(out)
        if key in seen: n+=1; ninst+=len(lines)
        else: seen[key]=1
    return n, ninst
D=np.zeros(len(rows)); DI=np.zeros(len(rows))
for i,r in enumerate(rows):
    t=mods[r['ir_sha256']]
    m=re.search(r'^define[^\n]*@'+re.escape(r['function'])+r'\(.*?^}', t, re.M|re.S)
    if m: D[i],DI[i]=dups(m.group(0))
te=z['test']; yt=z['y_text_bytes']; pt=z['p_text_bytes']; ym=z['y_machine_instructions']; pm=z['p_machine_instructions']
ok=te&(yt>0)&(ym>0)
at=np.abs(pt-yt)/yt; am=np.abs(pm-ym)/ym; lr=np.log(pt/yt)
f=ok&(D>0)
print('functions',ok.sum(),'with duplicate blocks',f.sum())
print('text APE',at[f].mean(),'share',at[f].sum()/at[ok].sum(),'bias(log p/y)',lr[f].mean())
print('MI APE',am[f].mean(),'share',am[f].sum()/am[ok].sum())
for lo,hi in ((1,2),(2,5),(5,1e9)):
    g=ok&(D>=lo)&(D<hi)
    if g.sum(): print(lo,hi,g.sum(),'text APE',round(at[g].mean(),3),'bias',round(lr[g].mean(),3))
