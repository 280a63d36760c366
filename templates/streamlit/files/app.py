import numpy as np
import pandas as pd
import streamlit as st

st.set_page_config(page_title="Data app", layout="wide")
st.title("Your data app")
st.caption("Describe what to build, and it appears here.")

data = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 3)).cumsum(axis=0), columns=["a", "b", "c"])
st.line_chart(data)
