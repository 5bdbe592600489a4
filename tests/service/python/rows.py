"""The rows both tritonclient scripts send (tests/service/helpers.ts tritonExpected predicts them)."""

MPG = {
    "Cylinders": [4.0, 8.0],
    "Displacement": [97.0, 350.0],
    "Horsepower": [88.0, 190.0],
    "Weight_in_lbs": [2130.0, 4300.0],
    "Acceleration": [14.5, 11.0],
    "Year": [1980.0, 1970.0],
    "Origin": ["Japan", "USA"],
}
PENGUIN = {
    "Beak_Length_mm": [39.1, 47.5],
    "Beak_Depth_mm": [18.7, 14.2],
    "Flipper_Length_mm": [181.0, 215.0],
    "Body_Mass_g": [3750.0, 5400.0],
    "Island": ["Torgersen", "Biscoe"],
    "Sex": ["MALE", "MALE"],
}
